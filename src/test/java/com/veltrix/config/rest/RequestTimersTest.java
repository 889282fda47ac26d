package com.veltrix.config.rest;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.Http.Response;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.ObservationRegistry;
import jakarta.servlet.DispatcherType;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.http.server.observation.DefaultServerRequestObservationConvention;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.filter.ServerHttpObservationFilter;

/**
 * {@link RequestTimers} against what it replaces: Spring's own observation filter runs beside it,
 * where Spring Boot registers it, under another name, and after every kind of answer the two
 * registries hold the same timers with the same tags and counts.
 */
@AutoConfigureObservability
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RequestTimersTest {

  static final String REFERENCE = "reference." + RequestTimers.NAME;

  @TestConfiguration
  static class Reference {
    @Bean
    FilterRegistrationBean<ServerHttpObservationFilter> referenceObservationFilter(
        ObservationRegistry observations) {
      // as Spring Boot's WebMvcObservationAutoConfiguration registers it
      FilterRegistrationBean<ServerHttpObservationFilter> registration =
          new FilterRegistrationBean<>(
              new ServerHttpObservationFilter(
                  observations, new DefaultServerRequestObservationConvention(REFERENCE)));
      registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 1);
      registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC);
      return registration;
    }
  }

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
    FreePort.register(registry, "grpc.server.port");
  }

  @LocalServerPort int port;
  @Autowired MeterRegistry meters;
  @Autowired JdbcClient jdbc;

  @Test
  void timesEveryKindOfAnswerAsSpringsObservationDoes() {
    TestDatabase.reset(jdbc);
    Http http = new Http(port);
    String dt = "/api/v1/drop-tables/";
    String reader = Tokens.mint("r", "configs:read", Duration.ofMinutes(5), Tokens.SECRET);

    Response created = http.put(dt + "timed", dropTable("gem", 5));
    String etag = created.header("ETag").orElseThrow();
    http.get(dt + "timed");
    http.get(dt + "timed", "If-None-Match", etag); // 304
    http.put(dt + "timed", dropTable("gem", 6), "If-Match", "\"41\""); // 412
    http.put(dt + "bad", "{\"rolls\": 0}"); // 400
    http.put(dt + "worse", "{"); // 400, unreadable
    http.get(dt + "missing"); // 404 from the handler
    http.get(dt + "timed/nothing-here"); // 404, no handler
    http.get("/"); // no handler
    http.send("PATCH", "/api/v1/revision", null); // 405
    http.send("FOO", "/api/v1/revision", null); // not standard: the firewall refuses it
    Http.anonymous(port).get("/api/v1/revision"); // 401
    http.put(dt + "timed", dropTable("gem", 7), "Authorization", "Bearer " + reader); // 403
    http.get("/api/v1/revision");
    http.get("/v3/api-docs");
    http.get("/swagger-ui.html");

    Map<String, Long> reference = timers(REFERENCE);
    Map<String, Long> ours = timers(RequestTimers.NAME);
    assertThat(ours).isEqualTo(reference);
    assertThat(ours.keySet())
        .as("the calls above gave answers of every kind")
        .anyMatch(t -> t.contains("status=304"))
        .anyMatch(t -> t.contains("status=400"))
        .anyMatch(t -> t.contains("status=401"))
        .anyMatch(t -> t.contains("status=403"))
        .anyMatch(t -> t.contains("status=404") && t.contains("uri=/**")) // no route
        .anyMatch(t -> t.contains("exception=RequestRejectedException")) // the firewall's
        .anyMatch(t -> t.contains("status=405") && t.contains("uri=UNKNOWN"))
        .anyMatch(t -> t.contains("method=UNKNOWN"))
        .anyMatch(t -> t.contains("status=412") && t.contains("uri=/api/v1/{kind}/{id}"));
  }

  /** Each timer of that name by its tags, with its count. */
  private Map<String, Long> timers(String name) {
    return meters.find(name).timers().stream()
        .collect(
            Collectors.toMap(
                t -> tags(t), Timer::count, (a, b) -> a + b, () -> new TreeMap<String, Long>()));
  }

  private static String tags(Timer timer) {
    return timer.getId().getTags().stream()
        .map(t -> t.getKey() + "=" + t.getValue())
        .sorted()
        .collect(Collectors.joining(","));
  }
}
