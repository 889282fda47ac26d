package com.veltrix.config.storage;

import com.veltrix.config.support.Cockroach;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * Lost commit replies against CockroachDB (where a lost reply is also what 40003 reports); skipped
 * where no Docker engine runs.
 */
@Testcontainers(disabledWithoutDocker = true)
class AmbiguousCommitCockroachTest extends AmbiguousCommitContract {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    Cockroach.register(registry);
  }
}
