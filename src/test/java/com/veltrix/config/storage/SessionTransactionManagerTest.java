package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.veltrix.config.support.TestDatabase;
import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A transaction whose session the database ended under it (a cut, a node lost, a backend
 * terminated) fails with what ended it, not with the failure of a rollback that could not be sent.
 * Before, Spring's {@code TransactionTemplate} logged "Application exception overridden by rollback
 * exception" at ERROR, with a stack trace, for every write group caught in a cut, and the call's
 * trail read {@code TransactionSystemException} instead of the SQLSTATE.
 */
class SessionTransactionManagerTest {

  private final HikariDataSource pool = new HikariDataSource();

  SessionTransactionManagerTest() {
    pool.setDataSource(TestDatabase.unpooled());
    pool.setMaximumPoolSize(1);
  }

  @AfterEach
  void close() {
    pool.close();
  }

  @Test
  void aTransactionWhoseSessionEndedFailsWithWhatEndedIt() {
    TransactionTemplate transactions = new TransactionTemplate(new SessionTransactionManager(pool));
    JdbcClient jdbc = JdbcClient.create(pool);

    Throwable failure =
        catchThrowable(
            () ->
                transactions.execute(
                    status ->
                        jdbc.sql("SELECT pg_terminate_backend(pg_backend_pid())")
                            .query(Boolean.class)
                            .single()));

    assertThat(TransientFailures.sqlState(failure)).as("SQLSTATE of %s", failure).contains("57P01");
    assertThat(TransientFailures.isTransient(failure)).isTrue();
    // the pool evicted the dead session and serves a new one
    assertThat(jdbc.sql("SELECT 1").query(Integer.class).single()).isEqualTo(1);
  }

  @Test
  void aRollbackOnALiveSessionStillRollsBack() {
    TransactionTemplate transactions = new TransactionTemplate(new SessionTransactionManager(pool));
    JdbcClient jdbc = JdbcClient.create(pool);
    jdbc.sql("CREATE TEMPORARY TABLE IF NOT EXISTS kept (n INT)").update();
    jdbc.sql("DELETE FROM kept").update();

    transactions.executeWithoutResult(
        status -> {
          jdbc.sql("INSERT INTO kept VALUES (1)").update();
          status.setRollbackOnly();
        });

    assertThat(jdbc.sql("SELECT count(*) FROM kept").query(Integer.class).single()).isZero();
  }
}
