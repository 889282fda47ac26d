package com.veltrix.config.storage;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executor;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.jdbc.DataSourceProperties;
import org.springframework.stereotype.Component;

/**
 * One readiness probe of the database: is the schema migrated, and does the database answer a read
 * within the probe's timeout? It keeps a connection of its own, outside the pool and the circuit
 * breaker (a pool busy with this pod's own requests is not a database outage), and opens a new one
 * after any failure. Only the readiness gate's single thread calls it.
 */
@Component
public class DatabaseProbe {

  private static final Executor DIRECT = Runnable::run;

  private final DataSource dataSource;
  private final DatabaseMigrations migrations;
  private final VersionCache versions;
  private Connection connection;

  DatabaseProbe(
      DataSourceProperties source,
      DatabaseProperties database,
      DatabaseMigrations migrations,
      VersionCache versions) {
    // pgjdbc counts connect and login timeouts in whole seconds: 1 s is its shortest
    this.dataSource = Connections.forProbe(source, database, Duration.ofSeconds(1));
    this.migrations = migrations;
    this.versions = versions;
  }

  /** Throws if the schema is not migrated or the database did not answer within {@code timeout}. */
  public synchronized void check(Duration timeout) throws SQLException {
    if (!migrations.migrated()) {
      throw new SQLException("the schema is not migrated yet", "08000");
    }
    try {
      if (connection == null) {
        connection = dataSource.getConnection();
      }
      connection.setNetworkTimeout(DIRECT, (int) timeout.toMillis());
      try (Statement statement = connection.createStatement();
          ResultSet row =
              statement.executeQuery("SELECT revision FROM revision_counter WHERE id = 1")) {
        if (!row.next()) {
          throw new SQLException("the revision row is missing", "XX000");
        }
        versions.observe(row.getLong(1));
      }
    } catch (SQLException | RuntimeException e) {
      close();
      versions.clear(); // what comes back may be a restored database (VersionCache)
      throw e;
    }
  }

  /** Drops the probe's connection (after a failure, or at shutdown). */
  public synchronized void close() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        // it is being thrown away
      }
      connection = null;
    }
  }
}
