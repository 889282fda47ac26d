package com.veltrix.config.storage;

import com.veltrix.config.DaemonThreads;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.jdbc.DataSourceProperties;
import org.springframework.stereotype.Component;

/**
 * Runs the Flyway migrations when the database is there, not at start-up: the service starts and
 * stays alive while the database is down. One attempt is made during start-up; after that a thread
 * of its own tries again every {@link #RETRY_EVERY} until the schema is migrated. Until then every
 * database call answers "unavailable" (503 / UNAVAILABLE) and readiness stays DOWN.
 *
 * <p>Migrations use a connection of their own (not the pool's), opened with a 2 s connect timeout
 * and a socket timeout of {@code veltrix.database.migration-timeout}: a database that accepts
 * connections but never answers holds this thread for that long at most, and never the readiness
 * probe, which only asks {@link #migrated()}. Its session has no statement timeout and waits at
 * most 10 s for a lock ({@link DatabaseProperties#migrationOptions()}).
 */
@Component
public class DatabaseMigrations implements SmartInitializingSingleton, DisposableBean {

  static final Duration RETRY_EVERY = Duration.ofSeconds(1);
  private static final Logger log = LoggerFactory.getLogger(DatabaseMigrations.class);

  private final Flyway flyway;
  private final ScheduledExecutorService retries =
      DaemonThreads.scheduled("database-migrations", 1);
  private volatile boolean migrated;
  private boolean failedBefore;

  DatabaseMigrations(
      DataSourceProperties dataSource,
      DatabaseProperties database,
      @Value("${spring.flyway.locations:classpath:db/migration}") String[] locations) {
    this.flyway =
        Flyway.configure()
            .dataSource(Connections.forMigrations(dataSource, database))
            .locations(locations)
            .connectRetries(0)
            .load();
  }

  /**
   * One attempt during start-up; if the database is not there yet, keep trying in the background.
   */
  @Override
  public void afterSingletonsInstantiated() {
    if (!attempt()) {
      retries.scheduleWithFixedDelay(
          () -> {
            if (migrated || attempt()) {
              retries.shutdown();
            }
          },
          RETRY_EVERY.toMillis(),
          RETRY_EVERY.toMillis(),
          TimeUnit.MILLISECONDS);
    }
  }

  public boolean migrated() {
    return migrated;
  }

  private synchronized boolean attempt() {
    if (migrated) {
      return true;
    }
    try {
      var result = flyway.migrate();
      log.info(
          "Database schema at version {} ({} migrations applied now)",
          result.targetSchemaVersion != null
              ? result.targetSchemaVersion
              : flyway.info().current().getVersion(),
          result.migrationsExecuted);
      migrated = true;
      return true;
    } catch (RuntimeException e) {
      if (!failedBefore) {
        log.warn(
            "Database not migrated yet ({}); trying again every {}", e.getMessage(), RETRY_EVERY);
      } else {
        log.debug("Database still not migrated: {}", e.getMessage());
      }
      failedBefore = true;
      return false;
    }
  }

  @Override
  public void destroy() {
    retries.shutdownNow();
  }
}
