package com.veltrix.config.rest;

import com.veltrix.config.support.Cockroach;
import com.veltrix.config.support.FreePort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * The REST contract against CockroachDB; skipped (reported as such) where no Docker engine runs.
 */
@Testcontainers(disabledWithoutDocker = true)
class RestApiCockroachTest extends RestApiContract {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    FreePort.register(registry, "grpc.server.port");
    Cockroach.register(registry);
  }
}
