package com.veltrix.config.rest;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.ObservationRegistry;
import jakarta.servlet.FilterChain;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.security.web.firewall.ObservationMarkingRequestRejectedHandler;
import org.springframework.security.web.firewall.RequestRejectedException;
import org.springframework.security.web.firewall.RequestRejectedHandler;
import org.springframework.stereotype.Component;
import org.springframework.util.StringUtils;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.HandlerMapping;

/**
 * Times every REST call as {@code http.server.requests}, with the tags Spring's observation gives
 * it ({@code DefaultServerRequestObservationConvention} and Micrometer's {@code
 * DefaultMeterObservationHandler}: {@code error}, {@code exception}, {@code method}, {@code
 * outcome}, {@code status}, {@code uri}), in the place of Spring Boot's {@code
 * ServerHttpObservationFilter} (excluded in application.yaml). That filter built an observation,
 * its context, its key values and a scope for every call and looked its timer up in the registry:
 * 5.3 % of a REST read's request-thread samples, for a timer and no tracing (docs/performance.md).
 * Here a call costs a map lookup of its timer by the tags' values.
 *
 * <p>The tags' values are bounded: {@code uri} is a route's pattern or one of {@code root}, {@code
 * NOT_FOUND}, {@code REDIRECTION}, {@code UNKNOWN}; {@code method} a standard method or {@code
 * UNKNOWN}; the rest a status code or an exception's class. {@code RequestTimersTest} runs Spring's
 * own observation filter beside this one and compares the two registries' timers over every kind of
 * answer.
 *
 * <p>No REST handler here is asynchronous; one that were would be timed to the end of its first
 * dispatch (Spring's filter waits for its completion).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
class RequestTimers extends OncePerRequestFilter implements RequestRejectedHandler {

  static final String NAME = "http.server.requests";

  private static final String NONE = "none";
  private static final Set<String> METHODS =
      Stream.of(HttpMethod.values()).map(HttpMethod::name).collect(Collectors.toUnmodifiableSet());

  /** Where {@link #handle} leaves the firewall's refusal for the call's timer. */
  private static final String REJECTED = RequestTimers.class.getName() + ".rejected";

  private final MeterRegistry registry;
  private final RequestRejectedHandler rejected;
  private final ObjectMapper json;
  private final ConcurrentMap<Key, Timer> timers = new ConcurrentHashMap<>();

  RequestTimers(
      MeterRegistry registry, ObjectProvider<ObservationRegistry> observations, ObjectMapper json) {
    this.registry = registry;
    this.json = json;
    // what Spring Security does without a handler of the application's (WebSecurity#build), but
    // for the answer, below
    this.rejected =
        new ObservationMarkingRequestRejectedHandler(
            observations.getIfAvailable(() -> ObservationRegistry.NOOP));
  }

  /**
   * The security chain's firewall refused the request: Spring Security marks the refusal on the
   * current observation, this filter's timer takes the place of that observation, and the caller
   * gets 400 with what was refused ({@link RefusedBeforeRouting}).
   */
  @Override
  public void handle(
      HttpServletRequest request, HttpServletResponse response, RequestRejectedException refusal)
      throws IOException, ServletException {
    request.setAttribute(REJECTED, refusal);
    rejected.handle(request, response, refusal);
    RefusedBeforeRouting.write(json, response, refusal.getMessage());
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    long started = System.nanoTime();
    Throwable failure = null;
    try {
      chain.doFilter(request, response);
    } catch (ServletException | IOException | RuntimeException e) { // as Spring's: not an Error
      failure = e instanceof ServletException && e.getCause() != null ? e.getCause() : e;
      response.setStatus(HttpStatus.INTERNAL_SERVER_ERROR.value());
      throw e;
    } finally {
      record(request, response, failure, started);
    }
  }

  private void record(
      HttpServletRequest request, HttpServletResponse response, Throwable failure, long started) {
    // the precedence of Spring's filter: an error page's exception, a thrown one, a refusal
    Throwable error = (Throwable) request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
    if (error == null) {
      error = failure != null ? failure : (Throwable) request.getAttribute(REJECTED);
    }
    String method = request.getMethod();
    int status = response.getStatus();
    Key key =
        new Key(
            METHODS.contains(method) ? method : "UNKNOWN",
            uri(request.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE), status),
            status,
            error == null ? null : error.getClass());
    timers.computeIfAbsent(key, this::timer).record(System.nanoTime() - started, NANOSECONDS);
  }

  private Timer timer(Key key) {
    String status = Integer.toString(key.status());
    String exception = NONE;
    String error = NONE;
    if (key.error() != null) {
      String simple = key.error().getSimpleName();
      exception = StringUtils.hasText(simple) ? simple : key.error().getName();
      error = simple;
    }
    return Timer.builder(NAME)
        .tags(
            Tags.of(
                "error",
                error,
                "exception",
                exception,
                "method",
                key.method(),
                "outcome",
                outcome(key.status()),
                "status",
                status,
                "uri",
                key.uri()))
        .register(registry);
  }

  private static String uri(Object pattern, int status) {
    if (pattern instanceof String p) {
      return p.isEmpty() ? "root" : p;
    }
    HttpStatus known = HttpStatus.resolve(status);
    if (known != null && known.is3xxRedirection()) {
      return "REDIRECTION";
    }
    return known == HttpStatus.NOT_FOUND ? "NOT_FOUND" : "UNKNOWN";
  }

  private static String outcome(int status) {
    if (status >= 200 && status < 300) {
      return "SUCCESS";
    }
    HttpStatus known = HttpStatus.resolve(status);
    return known == null ? "UNKNOWN" : known.series().name();
  }

  private record Key(String method, String uri, int status, Class<?> error) {}
}
