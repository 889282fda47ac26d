package com.veltrix.config.storage;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.WrapDataSource;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicBoolean;
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

/**
 * The commit reply is lost: COMMIT succeeds in the database, then the connection breaks before the
 * service hears so (CockroachDB's 40003, or a cut during COMMIT). The retried call must report its
 * own write as written, exactly once, instead of a no-op, a 412 or a second version. Run against
 * PostgreSQL and CockroachDB.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"management.server.port=0"})
@Import(AmbiguousCommitContract.LoseNextCommitReply.class)
abstract class AmbiguousCommitContract {

  static final AtomicBoolean LOSE_NEXT_COMMIT_REPLY = new AtomicBoolean();

  /** Each concrete test adds its database. */
  @DynamicPropertySource
  static void ports(DynamicPropertyRegistry registry) {
    FreePort.register(registry, "grpc.server.port");
  }

  @TestConfiguration
  static class LoseNextCommitReply {
    @Bean
    static BeanPostProcessor loseCommitReplies() {
      return WrapDataSource.with(Faulty::new);
    }
  }

  /** Commits, then (once, when armed) throws the I/O error a broken connection would. */
  static final class Faulty extends DelegatingDataSource {
    Faulty(DataSource target) {
      super(target);
    }

    @Override
    public Connection getConnection() throws SQLException {
      Connection real = super.getConnection();
      return (Connection)
          Proxy.newProxyInstance(
              Connection.class.getClassLoader(),
              new Class<?>[] {Connection.class},
              (proxy, method, args) -> {
                try {
                  Object result = method.invoke(real, args);
                  if (method.getName().equals("commit")
                      && LOSE_NEXT_COMMIT_REPLY.compareAndSet(true, false)) {
                    throw new SQLException(
                        "An I/O error occurred while sending to the backend.", "08006");
                  }
                  return result;
                } catch (InvocationTargetException e) {
                  throw e.getCause();
                }
              });
    }
  }

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  Http http;

  @BeforeEach
  void reset() {
    TestDatabase.reset(jdbc);
    LOSE_NEXT_COMMIT_REPLY.set(false);
    http = new Http(port);
  }

  long versions() {
    return jdbc.sql("SELECT count(*) FROM document_versions").query(Long.class).single();
  }

  @Test
  void aCreateWhoseCommitReplyIsLostAnswers201Once() {
    LOSE_NEXT_COMMIT_REPLY.set(true);

    Http.Response r = http.put("/api/v1/drop-tables/dt-1", dropTable("gold", 1));

    assertThat(r.status()).as(r.body()).isEqualTo(201);
    assertThat(r.json().has("unchanged")).isFalse();
    assertThat(versions()).isEqualTo(1);
    assertThat(LOSE_NEXT_COMMIT_REPLY).isFalse();
  }

  @Test
  void aCompareAndSetWhoseCommitReplyIsLostSucceedsInsteadOf412() {
    http.put("/api/v1/drop-tables/dt-1", dropTable("gold", 1));
    LOSE_NEXT_COMMIT_REPLY.set(true);

    Http.Response r =
        http.put("/api/v1/drop-tables/dt-1", dropTable("gold", 2), "If-Match", "\"1\"");

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("version").asLong()).isEqualTo(2);
    assertThat(r.json().has("unchanged")).isFalse();
    assertThat(versions()).isEqualTo(2);
    assertThat(http.get("/api/v1/revision").json().get("revision").asLong()).isEqualTo(2);
  }

  @Test
  void aBatchWhoseCommitReplyIsLostIsAppliedOnceAndReplaysTheSame() {
    String body =
        "{\"writes\":[{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-1\",\"payload\":"
            + dropTable("gold", 1)
            + "},{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-2\",\"payload\":"
            + dropTable("iron", 1)
            + "}]}";
    LOSE_NEXT_COMMIT_REPLY.set(true);

    Http.Response first = http.post("/api/v1/batches", body, "Idempotency-Key", "amb-1");
    Http.Response replay = http.post("/api/v1/batches", body, "Idempotency-Key", "amb-1");

    assertThat(first.status()).as(first.body()).isEqualTo(200);
    assertThat(first.json().get("revision").asLong()).isEqualTo(1);
    assertThat(replay.json()).isEqualTo(first.json());
    assertThat(versions()).isEqualTo(2);
  }
}
