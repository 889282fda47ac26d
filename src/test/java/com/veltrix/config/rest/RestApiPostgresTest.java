package com.veltrix.config.rest;

import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.TestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The REST contract against the embedded PostgreSQL. */
class RestApiPostgresTest extends RestApiContract {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    FreePort.register(registry, "grpc.server.port");
    TestDatabase.register(registry);
  }
}
