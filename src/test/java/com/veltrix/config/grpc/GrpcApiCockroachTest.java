package com.veltrix.config.grpc;

import com.veltrix.config.support.Cockroach;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * The gRPC contract against CockroachDB - writes, {@code GetConfigs}, the {@code ListActive}
 * manifest and {@code WatchChanges} with its deadlines; skipped where no Docker engine runs.
 */
@Testcontainers(disabledWithoutDocker = true)
class GrpcApiCockroachTest extends GrpcApiContract {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    Cockroach.register(registry);
  }
}
