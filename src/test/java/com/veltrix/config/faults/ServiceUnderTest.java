package com.veltrix.config.faults;

import com.veltrix.config.VeltrixConfigApplication;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** One instance of the service, started in-process on free ports against a given database URL. */
final class ServiceUnderTest implements AutoCloseable {

  final ConfigurableApplicationContext context;
  final int grpcPort = FreePort.find();
  final Http rest;
  final Http management;
  final ManagedChannel channel;

  ServiceUnderTest(String jdbcUrl, String stableFor) {
    Map<String, Object> properties = new LinkedHashMap<>();
    properties.put("spring.datasource.url", jdbcUrl);
    properties.put("spring.datasource.username", "postgres");
    properties.put("spring.datasource.password", "");
    properties.put("server.port", 0);
    properties.put("management.server.port", 0);
    properties.put("grpc.server.port", grpcPort);
    properties.put("veltrix.readiness.stable-for", stableFor);
    properties.put("veltrix.readiness.probe-interval", "200ms");
    properties.put("veltrix.readiness.probe-timeout", "300ms");
    properties.put("spring.main.banner-mode", "off");
    // as command-line arguments: they must win over application.yaml
    String[] args =
        properties.entrySet().stream()
            .map(e -> "--" + e.getKey() + "=" + e.getValue())
            .toArray(String[]::new);
    context = new SpringApplicationBuilder(VeltrixConfigApplication.class).run(args);
    rest = new Http(port("local.server.port"));
    management = new Http(port("local.management.port"));
    channel = ManagedChannelBuilder.forAddress("localhost", grpcPort).usePlaintext().build();
  }

  private int port(String property) {
    return Integer.parseInt(context.getEnvironment().getRequiredProperty(property));
  }

  String readiness() {
    return management.get("/actuator/health/readiness").json().get("status").asText();
  }

  String liveness() {
    return management.get("/actuator/health/liveness").json().get("status").asText();
  }

  double meter(String name, String tag, String value) {
    var registry = context.getBean(io.micrometer.core.instrument.MeterRegistry.class);
    var counter = registry.find(name).tag(tag, value).counter();
    return counter == null ? 0 : counter.count();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    context.close();
  }
}
