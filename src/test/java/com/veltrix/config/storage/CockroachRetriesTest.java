package com.veltrix.config.storage;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.support.Cockroach;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.WrapDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * CockroachDB's own retry errors and a second writer on the revision row, against CockroachDB;
 * skipped where no Docker engine runs. On PostgreSQL the same paths are covered by {@code
 * TransientFailuresTest}, {@code SessionBoundsTest} and the REST contract's parallel writers.
 *
 * <p>{@code inject_retry_errors_enabled}: while it is true, every statement but {@code SET} in an
 * explicit transaction of that session fails with 40001 (CockroachDB "Transaction Retry Error
 * Example"; the errors stop only for retries through the {@code cockroach_restart} savepoint, which
 * this service does not use). So it is switched on for the next {@code n} connections the pool
 * hands out and off for the rest: a write's first {@code n} attempts fail as they would under
 * contention, and the retry must then commit it exactly once.
 */
@Testcontainers(disabledWithoutDocker = true)
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"management.server.port=0"})
@Import(CockroachRetriesTest.InjectRetryErrors.class)
class CockroachRetriesTest {

  static final AtomicInteger INJECT_NEXT = new AtomicInteger();
  static final AtomicInteger INJECTED = new AtomicInteger();

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    FreePort.register(registry, "grpc.server.port");
    Cockroach.register(registry);
  }

  @TestConfiguration
  static class InjectRetryErrors {
    @Bean
    static BeanPostProcessor injectRetryErrors() {
      return WrapDataSource.with(Injecting::new);
    }
  }

  static final class Injecting extends DelegatingDataSource {
    Injecting(DataSource target) {
      super(target);
    }

    @Override
    public Connection getConnection() throws SQLException {
      Connection connection = super.getConnection();
      boolean inject = INJECT_NEXT.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
      try (Statement set = connection.createStatement()) {
        set.execute("SET inject_retry_errors_enabled = " + inject);
      }
      if (inject) {
        INJECTED.incrementAndGet();
      }
      return connection;
    }
  }

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  @Autowired MeterRegistry meters;
  Http http;

  @BeforeEach
  void reset() {
    INJECT_NEXT.set(0);
    TestDatabase.reset(jdbc);
    INJECTED.set(0);
    http = new Http(port);
  }

  double retried() {
    return meters.counter("veltrix.db.retries", "outcome", "retried").count();
  }

  long versions() {
    return jdbc.sql("SELECT count(*) FROM document_versions").query(Long.class).single();
  }

  @Test
  void aWriteWhoseFirstAttemptsGetCockroachRetryErrorsIsCommittedOnce() {
    double retriedBefore = retried();
    INJECT_NEXT.set(2);

    Http.Response r = http.put("/api/v1/drop-tables/dt-1", dropTable("gold", 1));

    assertThat(r.status()).as(r.body()).isEqualTo(201);
    assertThat(INJECTED).hasValue(2);
    assertThat(retried() - retriedBefore).isGreaterThanOrEqualTo(2);
    assertThat(versions()).isEqualTo(1);
    assertThat(http.get("/api/v1/revision").json().get("revision").asLong()).isEqualTo(1);
  }

  @Test
  void aWriterWaitsForAnotherPodsTransactionOnTheRevisionRowAndThenCommits() throws Exception {
    http.put("/api/v1/drop-tables/dt-1", dropTable("gold", 1));
    CompletableFuture<Http.Response> write;
    try (Connection otherPod =
        DriverManager.getConnection(
            Cockroach.container().getJdbcUrl(),
            Cockroach.container().getUsername(),
            Cockroach.container().getPassword())) {
      otherPod.setAutoCommit(false);
      try (Statement s = otherPod.createStatement()) {
        s.execute("SELECT revision FROM revision_counter WHERE id = 1 FOR UPDATE");
      }
      write =
          CompletableFuture.supplyAsync(
              () -> http.put("/api/v1/drop-tables/dt-2", dropTable("iron", 1)));
      Thread.sleep(100); // the other pod's critical section: well inside the write's budget
      otherPod.commit();
    }

    Http.Response r = write.get();
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    assertThat(r.json().get("revision").asLong()).isEqualTo(2);
    assertThat(versions()).isEqualTo(2);
  }
}
