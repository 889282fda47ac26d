package com.veltrix.config.faults;

import com.veltrix.config.VeltrixConfigApplication;
import com.veltrix.config.support.FreePort;
import java.util.Map;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** One instance of the service, started in-process on free ports against a given database URL. */
final class ServiceUnderTest extends Instance {

  final ConfigurableApplicationContext context;

  ServiceUnderTest(String jdbcUrl, String stableFor) {
    this("in-process", jdbcUrl, stableFor, Map.of());
  }

  ServiceUnderTest(String name, String jdbcUrl, String stableFor, Map<String, Object> more) {
    super(name, FreePort.find());
    Map<String, Object> properties = properties(jdbcUrl, stableFor, grpcPort);
    properties.put("server.port", 0);
    properties.put("management.server.port", 0);
    properties.putAll(more);
    // as command-line arguments: they must win over application.yaml
    context =
        new SpringApplicationBuilder(VeltrixConfigApplication.class).run(arguments(properties));
    connect(port("local.server.port"), port("local.management.port"));
  }

  private int port(String property) {
    return Integer.parseInt(context.getEnvironment().getRequiredProperty(property));
  }

  /** A counter with the given tag, or without tags (0 before its first increment). */
  double meter(String name, String... tagAndValue) {
    var counter =
        context
            .getBean(io.micrometer.core.instrument.MeterRegistry.class)
            .find(name)
            .tags(tagAndValue)
            .counter();
    return counter == null ? 0 : counter.count();
  }

  /** The state of the database circuit breaker ({@code CLOSED}, {@code OPEN}, ...). */
  String breaker() {
    return context
        .getBean(io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry.class)
        .circuitBreaker("database")
        .getState()
        .name();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    context.close();
  }
}
