package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.catalog.Status;
import com.veltrix.config.support.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The storage contract against the embedded PostgreSQL, plus PostgreSQL's 40001 behaviour. */
class CatalogStorePostgresTest extends CatalogStoreContract {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
  }

  /**
   * Another writer (another pod) holds the revision row; when it commits, PostgreSQL fails our
   * waiting SERIALIZABLE transaction with 40001, as CockroachDB does, and the runner re-runs it.
   */
  @Test
  void retriesASerializationFailureCausedByAnotherWriter() throws Exception {
    double retriesBefore = meters.counter("veltrix.db.retries", "outcome", "retried").count();
    try (Connection other = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "")) {
      other.setAutoCommit(false);
      other.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
      try (Statement s = other.createStatement()) {
        s.executeUpdate("UPDATE revision_counter SET revision = revision + 1 WHERE id = 1");
      }

      CompletableFuture<Long> ours =
          CompletableFuture.supplyAsync(() -> write(Status.ACTIVE, dt("a")));
      awaitWriterBlockedOnTheRevisionRow();
      other.commit();

      assertThat(ours.get(10, TimeUnit.SECONDS)).isEqualTo(2);
    }
    assertThat(meters.counter("veltrix.db.retries", "outcome", "retried").count())
        .isGreaterThan(retriesBefore);
    assertThat(store.changes(0, 2, java.util.Set.of(), 10)).hasSize(1);
  }

  private void awaitWriterBlockedOnTheRevisionRow() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (jdbc.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            .query(Long.class)
            .single()
        == 0) {
      assertThat(System.nanoTime())
          .as("writer never blocked on the revision row")
          .isLessThan(deadline);
      Thread.sleep(5);
    }
  }
}
