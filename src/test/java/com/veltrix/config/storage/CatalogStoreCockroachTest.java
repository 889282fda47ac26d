package com.veltrix.config.storage;

import com.veltrix.config.support.Cockroach;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.junit.jupiter.Testcontainers;

/** The storage contract against CockroachDB; skipped where no Docker engine runs. */
@Testcontainers(disabledWithoutDocker = true)
class CatalogStoreCockroachTest extends CatalogStoreContract {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    Cockroach.register(registry);
  }
}
