package com.veltrix.config.rest;

import java.util.List;
import org.springframework.boot.autoconfigure.web.servlet.WebMvcRegistrations;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.converter.xml.Jaxb2RootElementHttpMessageConverter;
import org.springframework.web.filter.ServletRequestPathFilter;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import org.springframework.web.servlet.mvc.method.annotation.JsonViewRequestBodyAdvice;
import org.springframework.web.servlet.mvc.method.annotation.JsonViewResponseBodyAdvice;
import org.springframework.web.servlet.mvc.method.annotation.RequestBodyAdvice;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyAdvice;

/**
 * Takes out of every REST call the work Spring MVC does for features this API does not use. Each
 * was seen in the JFR profile of REST point reads (docs/performance.md, "What a REST read did for
 * features it does not use"):
 *
 * <ul>
 *   <li>the request's path is parsed once, ahead of the security chain, instead of once by each of
 *       its path-pattern matchers and again by the {@code DispatcherServlet} ({@link
 *       ServletRequestPathFilter}, which they all reuse);
 *   <li>no JAXB converter: this API speaks JSON only, and the converter looked up XML annotations
 *       on the body's class each time Spring MVC listed what it could write (a request body or an
 *       {@code Accept} of XML was and is refused: 415 / 406);
 *   <li>no {@code @JsonView} advice (nothing here is annotated with it): it looked up the
 *       annotation on the handler method for every request and response body.
 * </ul>
 */
@Configuration(proxyBeanMethods = false)
class LeanRequestPath implements WebMvcConfigurer {

  /** Before the security chain (-100), after the request id and the request timer. */
  static final int PATH_FILTER_ORDER = Ordered.HIGHEST_PRECEDENCE + 3;

  @Bean
  FilterRegistrationBean<ServletRequestPathFilter> requestPathOnce() {
    FilterRegistrationBean<ServletRequestPathFilter> registration =
        new FilterRegistrationBean<>(new ServletRequestPathFilter());
    registration.setOrder(PATH_FILTER_ORDER);
    return registration;
  }

  @Override
  public void extendMessageConverters(List<HttpMessageConverter<?>> converters) {
    converters.removeIf(Jaxb2RootElementHttpMessageConverter.class::isInstance);
  }

  @Bean
  WebMvcRegistrations withoutJsonViews() {
    return new WebMvcRegistrations() {
      @Override
      public RequestMappingHandlerAdapter getRequestMappingHandlerAdapter() {
        return new WithoutJsonViews();
      }
    };
  }

  /** Spring MVC's adapter, given every body advice but the {@code @JsonView} ones. */
  static final class WithoutJsonViews extends RequestMappingHandlerAdapter {

    @Override
    public void setRequestBodyAdvice(List<RequestBodyAdvice> advice) {
      super.setRequestBodyAdvice(
          advice == null
              ? null
              : advice.stream().filter(a -> !(a instanceof JsonViewRequestBodyAdvice)).toList());
    }

    @Override
    public void setResponseBodyAdvice(List<ResponseBodyAdvice<?>> advice) {
      super.setResponseBodyAdvice(
          advice == null
              ? null
              : advice.stream().filter(a -> !(a instanceof JsonViewResponseBodyAdvice)).toList());
    }
  }
}
