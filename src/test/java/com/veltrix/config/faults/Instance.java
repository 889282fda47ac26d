package com.veltrix.config.faults;

import com.veltrix.config.support.Http;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** One instance of the service as its clients see it: REST, Actuator and a gRPC channel. */
abstract class Instance implements AutoCloseable {

  final String name;
  final int grpcPort;
  Http rest;
  Http management;
  ManagedChannel channel;

  Instance(String name, int grpcPort) {
    this.name = name;
    this.grpcPort = grpcPort;
  }

  void connect(int restPort, int managementPort) {
    rest = new Http(restPort);
    management = new Http(managementPort);
    channel = ManagedChannelBuilder.forAddress("localhost", grpcPort).usePlaintext().build();
  }

  /** The settings every instance of the suites runs with (tests shorten the readiness window). */
  static Map<String, Object> properties(String jdbcUrl, String stableFor, int grpcPort) {
    Map<String, Object> properties = new LinkedHashMap<>();
    properties.put("spring.datasource.url", jdbcUrl);
    properties.put("spring.datasource.username", "postgres");
    properties.put("spring.datasource.password", "");
    properties.put("grpc.server.port", grpcPort);
    properties.put("veltrix.readiness.stable-for", stableFor);
    properties.put("veltrix.readiness.probe-interval", "200ms");
    properties.put("veltrix.readiness.probe-timeout", "300ms");
    properties.put("spring.main.banner-mode", "off");
    return properties;
  }

  static String[] arguments(Map<String, Object> properties) {
    return properties.entrySet().stream()
        .map(e -> "--" + e.getKey() + "=" + e.getValue())
        .toArray(String[]::new);
  }

  /** Everything the instance measures, as Prometheus scrapes it. */
  String prometheus() {
    return management.get("/actuator/prometheus").body();
  }

  /**
   * The sum of the samples of {@code name} whose labels include each of {@code labels} (such as
   * {@code id="direct"}), as Prometheus scrapes them; NaN when the instance reports none.
   */
  double metric(String name, String... labels) {
    double[] samples =
        prometheus()
            .lines()
            .filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
            .filter(l -> Arrays.stream(labels).allMatch(l::contains))
            .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
            .toArray();
    return samples.length == 0 ? Double.NaN : Arrays.stream(samples).sum();
  }

  String readiness() {
    return status("/actuator/health/readiness");
  }

  String liveness() {
    return status("/actuator/health/liveness");
  }

  private String status(String path) {
    try {
      return management.get(path).json().get("status").asText();
    } catch (RuntimeException e) {
      return "UNREACHABLE";
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
