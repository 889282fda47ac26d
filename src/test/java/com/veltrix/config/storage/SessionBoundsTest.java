package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.support.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.jdbc.DataSourceProperties;

/** The server-side bounds each kind of session gets, read back from the database. */
class SessionBoundsTest {

  static final DatabaseProperties DEFAULTS =
      new DatabaseProperties(
          Duration.ofSeconds(10),
          Duration.ofMillis(200),
          Duration.ofSeconds(3),
          Duration.ofMinutes(10));

  static DataSourceProperties embedded() {
    DataSourceProperties source = new DataSourceProperties();
    source.setUrl(TestDatabase.jdbcUrl());
    source.setUsername("postgres");
    source.setPassword("");
    return source;
  }

  static String show(DataSource dataSource, String variable) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SHOW " + variable)) {
      r.next();
      return r.getString(1);
    }
  }

  @Test
  void theProbeSessionHasTheRequestSessionsBounds() throws SQLException {
    DataSource probe = Connections.forProbe(embedded(), DEFAULTS, Duration.ofSeconds(1));

    assertThat(show(probe, "statement_timeout")).isEqualTo("10s");
    assertThat(show(probe, "lock_timeout")).isEqualTo("200ms");
    assertThat(show(probe, "idle_in_transaction_session_timeout")).isEqualTo("3s");
  }

  /** A long DDL must not be cut; a DDL queued behind a long transaction must give up. */
  @Test
  void theMigrationSessionHasNoStatementTimeoutAndABoundedLockWait() throws SQLException {
    DataSource migrations = Connections.forMigrations(embedded(), DEFAULTS);

    assertThat(show(migrations, "statement_timeout")).isEqualTo("0");
    assertThat(show(migrations, "lock_timeout")).isEqualTo("10s");
  }
}
