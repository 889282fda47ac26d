package com.veltrix.config.storage;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Runs the Flyway migrations when the database is there, not at start-up: the service starts and
 * stays alive while the database is down, and migrates on the first successful probe. Until then
 * every database call answers "unavailable" (503 / UNAVAILABLE).
 */
@Component
public class DatabaseMigrations implements SmartInitializingSingleton {

  private static final Logger log = LoggerFactory.getLogger(DatabaseMigrations.class);

  private final Flyway flyway;
  private volatile boolean migrated;

  DatabaseMigrations(
      DataSource dataSource,
      @Value("${spring.flyway.locations:classpath:db/migration}") String[] locations) {
    this.flyway = Flyway.configure().dataSource(dataSource).locations(locations).load();
  }

  /** One attempt during start-up; if the database is not there yet, the readiness probe retries. */
  @Override
  public void afterSingletonsInstantiated() {
    try {
      migrateIfNeeded();
    } catch (RuntimeException e) {
      log.warn(
          "Database not reachable at start-up ({}); will migrate when it appears", e.getMessage());
    }
  }

  public boolean migrated() {
    return migrated;
  }

  /** Migrates if that has not happened yet; throws if the database cannot be reached. */
  public synchronized void migrateIfNeeded() {
    if (migrated) {
      return;
    }
    var result = flyway.migrate();
    log.info(
        "Database schema at version {} ({} migrations applied now)",
        result.targetSchemaVersion != null
            ? result.targetSchemaVersion
            : flyway.info().current().getVersion(),
        result.migrationsExecuted);
    migrated = true;
  }
}
