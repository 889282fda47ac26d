package com.veltrix.config.schedule;

import com.veltrix.config.support.TestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** Scheduled changes and reads as of a time against the embedded PostgreSQL. */
class ScheduleApiPostgresTest extends ScheduleApiContract {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
  }
}
