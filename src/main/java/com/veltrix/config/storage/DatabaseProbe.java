package com.veltrix.config.storage;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executor;
import javax.sql.DataSource;
import org.springframework.stereotype.Component;

/**
 * One readiness probe of the database: migrate if that is still pending, then read the revision row
 * within {@code timeout}. Bypasses the circuit breaker: it asks the database itself.
 */
@Component
public class DatabaseProbe {

  private static final Executor DIRECT = Runnable::run;

  private final DataSource dataSource;
  private final DatabaseMigrations migrations;

  DatabaseProbe(DataSource dataSource, DatabaseMigrations migrations) {
    this.dataSource = dataSource;
    this.migrations = migrations;
  }

  /** Throws if the database did not answer correctly within {@code timeout}. */
  public void check(Duration timeout) throws SQLException {
    migrations.migrateIfNeeded();
    try (Connection connection = dataSource.getConnection()) {
      connection.setNetworkTimeout(DIRECT, (int) timeout.toMillis());
      try (Statement statement = connection.createStatement();
          ResultSet row =
              statement.executeQuery("SELECT revision FROM revision_counter WHERE id = 1")) {
        if (!row.next()) {
          throw new SQLException("the revision row is missing", "XX000");
        }
      }
    }
  }
}
