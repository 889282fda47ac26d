package com.veltrix.config.grpc;

import com.veltrix.config.support.TestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@link GrpcTestBase} on the embedded PostgreSQL; its subclasses share one Spring context. */
abstract class GrpcPostgresTestBase extends GrpcTestBase {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
  }
}
