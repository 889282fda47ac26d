package com.veltrix.config.grpc;

import com.veltrix.config.support.TestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The gRPC contract against the embedded PostgreSQL. */
class GrpcApiPostgresTest extends GrpcApiContract {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
  }
}
