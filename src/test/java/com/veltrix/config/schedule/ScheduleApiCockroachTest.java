package com.veltrix.config.schedule;

import com.veltrix.config.support.Cockroach;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * Scheduled changes and reads as of a time against CockroachDB (commit times from {@code
 * clock_timestamp()}, the claim-then-update statement); skipped where no Docker engine runs.
 */
@Testcontainers(disabledWithoutDocker = true)
class ScheduleApiCockroachTest extends ScheduleApiContract {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    Cockroach.register(registry);
  }
}
