package com.veltrix.config.rest;

import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.Violation;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.MethodParameter;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Refuses, before the call runs, a query parameter that the call does not take and a single-valued
 * one given more than once (400, each named in {@code errors}). Ignored, a misspelt {@code
 * atRevison=5} answered the current state as if it were the state asked for, and a {@code
 * dryRun=true} that nothing reads would have let a write through. The parameters a call takes are
 * its handler's {@code @RequestParam}s, read once per handler.
 */
@Component
class QueryParameters implements HandlerInterceptor, WebMvcConfigurer {

  private static final DefaultParameterNameDiscoverer NAMES = new DefaultParameterNameDiscoverer();

  /** Per handler method: the parameters it takes, each with whether it may repeat. */
  private final Map<Method, Map<String, Boolean>> taken = new ConcurrentHashMap<>();

  @Override
  public void addInterceptors(InterceptorRegistry registry) {
    registry.addInterceptor(this).addPathPatterns("/api/**");
  }

  @Override
  public boolean preHandle(
      HttpServletRequest request, HttpServletResponse response, Object handler) {
    Map<String, String[]> given = request.getParameterMap();
    if (given.isEmpty() || !(handler instanceof HandlerMethod method)) {
      return true;
    }
    Map<String, Boolean> takes = taken.computeIfAbsent(method.getMethod(), m -> takes(method));
    List<Violation> violations = new ArrayList<>();
    given.forEach(
        (name, values) -> {
          Boolean repeats = takes.get(name);
          if (repeats == null) {
            violations.add(
                Violation.parameter(
                    name,
                    "is not a parameter of this call; it takes "
                        + (takes.isEmpty() ? "none" : String.join(", ", takes.keySet()))));
          } else if (!repeats && values.length > 1) {
            violations.add(
                Violation.parameter(name, "is given " + values.length + " times; give it once"));
          }
        });
    if (!violations.isEmpty()) {
      throw new InvalidInputException(violations);
    }
    return true;
  }

  private static Map<String, Boolean> takes(HandlerMethod method) {
    Map<String, Boolean> takes = new LinkedHashMap<>();
    for (MethodParameter parameter : method.getMethodParameters()) {
      RequestParam annotation = parameter.getParameterAnnotation(RequestParam.class);
      if (annotation == null) {
        continue;
      }
      parameter.initParameterNameDiscovery(NAMES);
      String name = annotation.name().isEmpty() ? parameter.getParameterName() : annotation.name();
      Class<?> type = parameter.nestedIfOptional().getNestedParameterType();
      takes.put(name, type.isArray() || Collection.class.isAssignableFrom(type));
    }
    return takes;
  }
}
