package com.veltrix.config.storage;

import com.veltrix.config.support.TestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** Lost commit replies against the embedded PostgreSQL. */
class AmbiguousCommitPostgresTest extends AmbiguousCommitContract {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
  }
}
