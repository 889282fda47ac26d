package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.veltrix.config.support.TestDatabase;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * A refused connection is tried again inside the opening HikariCP asked for, so the pool's own
 * creation backoff never decides when the first connection after a leader transition appears.
 * Through a real pool configured as Spring Boot configures it: with a user name, which makes
 * HikariCP call {@code getConnection(username, password)} (a wrapper that overrides only {@code
 * getConnection()} is passed by; docs/decisions.md, "Opening the missing connections at once").
 */
class ReconnectingDataSourceTest {

  @Test
  void refusedOpeningsAreTriedAgainInsideThePoolsOneRequest() throws SQLException {
    Refusing database = new Refusing(3, "08001");

    try (HikariDataSource pool =
        pool(new ReconnectingDataSource(database, Duration.ofSeconds(1)))) {
      try (Connection connection = pool.getConnection()) {
        assertThat(connection.createStatement().executeQuery("SELECT 1").next()).isTrue();
      }
    }

    assertThat(database.attempts).as("three refused, then opened").hasSize(4);
    assertThat(database.attempts)
        .as("every attempt made by ReconnectingDataSource's loop, not by the pool's backoff")
        .containsOnly(true);
  }

  @Test
  void aFailureThatIsNotTransientIsThePoolsAtOnce() {
    Refusing database = new Refusing(1, "28P01"); // invalid password: trying again cannot help
    ReconnectingDataSource reconnecting =
        new ReconnectingDataSource(database, Duration.ofSeconds(1));

    assertThatThrownBy(() -> reconnecting.getConnection("postgres", "wrong"))
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("28P01");
    assertThat(database.attempts).hasSize(1);
  }

  private static HikariDataSource pool(DataSource opens) {
    HikariDataSource pool = new HikariDataSource();
    pool.setUsername("postgres");
    pool.setDataSource(opens);
    pool.setMaximumPoolSize(1);
    return pool;
  }

  /**
   * The test database, refusing its first {@code refusals} openings with {@code sqlState}; records
   * for each opening whether ReconnectingDataSource's retry loop made it.
   */
  private static final class Refusing extends DelegatingDataSource {
    final List<Boolean> attempts = new CopyOnWriteArrayList<>();
    private final int refusals;
    private final String sqlState;

    Refusing(int refusals, String sqlState) {
      super(TestDatabase.unpooled());
      this.refusals = refusals;
      this.sqlState = sqlState;
    }

    @Override
    public Connection getConnection() throws SQLException {
      refuseFirst();
      return super.getConnection();
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
      refuseFirst();
      return super.getConnection(username, password);
    }

    private void refuseFirst() throws SQLException {
      attempts.add(
          StackWalker.getInstance()
              .walk(
                  frames ->
                      frames.anyMatch(
                          f ->
                              f.getClassName().equals(ReconnectingDataSource.class.getName())
                                  && f.getMethodName().equals("retrying"))));
      if (attempts.size() <= refusals) {
        throw new SQLException("refused (" + sqlState + ")", sqlState);
      }
    }
  }
}
