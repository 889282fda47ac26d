package com.veltrix.config.support;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.testcontainers.containers.CockroachContainer;

/** One CockroachDB container per test JVM, for the suites that also run against CockroachDB. */
public final class Cockroach {

  /** Pinned: the CockroachDB release the service is tested against. */
  public static final String IMAGE = "cockroachdb/cockroach:v24.3.5";

  private static CockroachContainer container;

  private Cockroach() {}

  public static synchronized CockroachContainer container() {
    if (container == null) {
      container = new CockroachContainer(IMAGE);
      container.start();
    }
    return container;
  }

  public static void register(DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", () -> container().getJdbcUrl());
    registry.add("spring.datasource.username", () -> container().getUsername());
    registry.add("spring.datasource.password", () -> container().getPassword());
  }
}
