package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.support.TestDatabase;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;
import org.postgresql.util.ServerErrorMessage;
import org.springframework.dao.CannotAcquireLockException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.jdbc.UncategorizedSQLException;
import org.springframework.transaction.TransactionSystemException;

/** The classifier against real pgjdbc exceptions, wrapped as Spring wraps them. */
class TransientFailuresTest {

  static PSQLException server(String sqlState) {
    return new PSQLException(
        new ServerErrorMessage("SERROR\0C" + sqlState + "\0Mfrom the server\0"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "40001", "40P01", "40003", "08006", "08001", "57P01", "57P02", "57P03", "53300", "55P03"
      })
  void retriesTransientStates(String sqlState) {
    assertThat(TransientFailures.isTransient(new CannotAcquireLockException("x", server(sqlState))))
        .isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"23505", "42P01", "22001", "57014", "42601", "XX000", "08P01"})
  void doesNotRetryAnythingElse(String sqlState) {
    assertThat(
            TransientFailures.isTransient(
                new DataIntegrityViolationException("x", server(sqlState))))
        .isFalse();
  }

  @ParameterizedTest
  @CsvSource({
    "40001, false",
    "40P01, false",
    "55P03, false",
    "40003, true",
    "08006, true",
    "08001, true",
    "57P01, true",
    "53300, true",
    "57014, true",
    "23505, true"
  })
  void aFailedWriteMayHaveCommittedUnlessTheDatabaseRefusedItForContention(
      String sqlState, boolean mayHaveCommitted) {
    assertThat(
            TransientFailures.mayHaveCommitted(
                new UncategorizedSQLException("x", null, server(sqlState))))
        .as(sqlState)
        .isEqualTo(mayHaveCommitted);
  }

  @Test
  void aBrokenConnectionOrACommitThatFailedWithoutAStateMayHaveCommitted() {
    assertThat(
            TransientFailures.mayHaveCommitted(
                new org.springframework.transaction.TransactionSystemException(
                    "commit failed", server("40001"))))
        .isTrue();
    assertThat(
            TransientFailures.mayHaveCommitted(
                new RuntimeException(new java.net.SocketException("Connection reset"))))
        .isTrue();
    assertThat(TransientFailures.mayHaveCommitted(new IllegalStateException("a bug"))).isTrue();
  }

  @Test
  void readsTheStateOfPgjdbcsOwnExceptions() {
    assertThat(
            TransientFailures.isTransient(
                new PSQLException("serialization", PSQLState.SERIALIZATION_FAILURE)))
        .isTrue();
    assertThat(TransientFailures.isTransient(new PSQLException("dup", PSQLState.UNIQUE_VIOLATION)))
        .isFalse();
    assertThat(TransientFailures.isTransient(new RuntimeException("no SQL here"))).isFalse();
  }

  @Test
  void describesAFailedAttemptByItsStateAndTheStartOfItsMessage() {
    CannotAcquireLockException wrapped =
        new CannotAcquireLockException(
            "PreparedStatementCallback; SQL [WITH r AS (UPDATE revision_counter ...]",
            new PSQLException(
                "ERROR: could not serialize access due to concurrent update\n  Where: ...",
                PSQLState.SERIALIZATION_FAILURE));
    assertThat(TransientFailures.describe(wrapped))
        .isEqualTo("40001 could not serialize access due to concurrent update");
    assertThat(
            TransientFailures.describe(
                new PSQLException("x".repeat(100), PSQLState.CONNECTION_FAILURE)))
        .isEqualTo("08006 " + "x".repeat(60));
    assertThat(TransientFailures.describe(new IllegalStateException("no SQL here")))
        .isEqualTo("IllegalStateException");
  }

  @Test
  void aFailedRollbackAfterALostConnectionIsTransient() {
    TransactionSystemException rollbackFailed =
        new TransactionSystemException(
            "JDBC rollback failed", new SQLException("Connection is closed"));
    rollbackFailed.initApplicationException(
        new PSQLException("I/O error", PSQLState.CONNECTION_FAILURE));

    assertThat(TransientFailures.isTransient(rollbackFailed)).isTrue();
    assertThat(
            TransientFailures.isTransient(
                new TransactionSystemException(
                    "JDBC rollback failed", new SQLException("Connection is closed"))))
        .as("a commit whose rollback failed on a closed connection: outcome unknown")
        .isTrue();
    assertThat(
            TransientFailures.isTransient(
                new TransactionSystemException("JDBC commit failed", server("23505"))))
        .isFalse();
  }

  @Test
  void aPoolTimeoutIsTransient() {
    assertThat(
            TransientFailures.isTransient(
                new CannotGetJdbcConnectionException(
                    "pool", new SQLTransientConnectionException("Connection is not available"))))
        .isTrue();
  }

  @Test
  void aRefusedConnectionIsTransient() {
    String closedPort = "jdbc:postgresql://127.0.0.1:1/none?connectTimeout=1";
    SQLException refused = null;
    try {
      DriverManager.getConnection(closedPort, "x", "y").close();
    } catch (SQLException e) {
      refused = e;
    }

    assertThat((Object) refused).isNotNull();
    assertThat(TransientFailures.sqlState(refused))
        .hasValueSatisfying(s -> assertThat(s).startsWith("08"));
    assertThat(TransientFailures.isTransient(refused)).isTrue();
  }

  @Test
  void aRealUniqueViolationIsNotTransient() throws Exception {
    SQLException duplicate = null;
    try (var c = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "");
        var s = c.createStatement()) {
      s.execute("CREATE TEMP TABLE t (id INT PRIMARY KEY)");
      s.execute("INSERT INTO t VALUES (1)");
      s.execute("INSERT INTO t VALUES (1)");
    } catch (SQLException e) {
      duplicate = e;
    }

    assertThat(TransientFailures.sqlState(duplicate)).contains("23505");
    assertThat(TransientFailures.isTransient(duplicate)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"08006", "08001", "57P01", "53300", "40003", "57014"})
  void connectionFailuresAndCancelledStatementsAreTheDatabasesFault(String sqlState) {
    assertThat(
            TransientFailures.isDatabaseFailure(
                new CannotGetJdbcConnectionException("x", server(sqlState))))
        .isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"40001", "40P01", "55P03"})
  void contentionIsNotTheDatabasesFault(String sqlState) {
    assertThat(
            TransientFailures.isDatabaseFailure(
                new CannotAcquireLockException("x", server(sqlState))))
        .isFalse();
  }

  @Test
  void aPoolWaitWithoutAFailedConnectionIsAQueueInThisPod() {
    SQLTransientConnectionException queued =
        new SQLTransientConnectionException("Connection is not available, request timed out");
    SQLTransientConnectionException refused =
        new SQLTransientConnectionException(
            "Connection is not available, request timed out", "08001", server("08001"));

    assertThat(TransientFailures.isDatabaseFailure(queued)).isFalse();
    assertThat(TransientFailures.isDatabaseFailure(refused)).isTrue();
    assertThat(TransientFailures.isDatabaseFailure(new DeadlinePassed())).isFalse();
  }

  @Test
  void aRealLockTimeoutIsRetriedButNotTheDatabasesFault() throws Exception {
    SQLException timedOut = null;
    try (var holder = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "");
        var waiter = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "");
        var h = holder.createStatement();
        var w = waiter.createStatement()) {
      // a schema of its own: a table in the shared database's public schema would stop Flyway
      // ("non-empty schema but no schema history table") in every test that runs after this one
      h.execute("CREATE SCHEMA IF NOT EXISTS classifier_test");
      h.execute("CREATE TABLE IF NOT EXISTS classifier_test.lock_probe (id INT PRIMARY KEY)");
      h.execute("INSERT INTO classifier_test.lock_probe VALUES (1) ON CONFLICT DO NOTHING");
      holder.setAutoCommit(false);
      h.execute("UPDATE classifier_test.lock_probe SET id = 1 WHERE id = 1");
      w.execute("SET lock_timeout = 50");
      w.execute("UPDATE classifier_test.lock_probe SET id = 1 WHERE id = 1");
    } catch (SQLException e) {
      timedOut = e;
    }

    assertThat(TransientFailures.sqlState(timedOut)).contains("55P03");
    assertThat(TransientFailures.isTransient(timedOut)).isTrue();
    assertThat(TransientFailures.isDatabaseFailure(timedOut)).isFalse();
  }
}
