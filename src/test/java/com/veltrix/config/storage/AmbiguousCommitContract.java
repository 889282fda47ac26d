package com.veltrix.config.storage;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.catalog.Kind;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.WrapDataSource;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.PreparedStatement;
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
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
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

  /** Runs after the commit whose reply is lost, before the service hears of the failure. */
  static volatile Runnable afterLostCommit = () -> {};

  /** Each concrete test adds its database. */
  @DynamicPropertySource
  static void ports(DynamicPropertyRegistry registry) {
    FreePort.register(registry, "grpc.server.port");
  }

  @TestConfiguration
  static class LoseNextCommitReply {
    @Bean
    static BeanPostProcessor loseCommitReplies() {
      return WrapDataSource.connections(AmbiguousCommitContract::loseCommitReplies);
    }
  }

  /**
   * Commits, then (once, when armed) throws the I/O error a broken connection would: at {@link
   * Connection#commit()}, or at the execution of a statement that carries its own COMMIT (the write
   * path sends COMMIT with its last statement).
   */
  static Object loseCommitReplies(Method method, Object[] args, WrapDataSource.Call call)
      throws Throwable {
    Object result = call.proceed();
    if (method.getName().equals("commit")) {
      loseTheReplyWhenArmed();
    }
    if (method.getName().equals("prepareStatement")
        && ((String) args[0]).strip().endsWith("COMMIT")) {
      return WrapDataSource.around(
          PreparedStatement.class,
          (PreparedStatement) result,
          (m, a, execute) -> {
            Object answer = execute.proceed();
            if (m.getName().startsWith("execute")) {
              loseTheReplyWhenArmed();
            }
            return answer;
          });
    }
    return result;
  }

  private static void loseTheReplyWhenArmed() throws SQLException {
    if (LOSE_NEXT_COMMIT_REPLY.compareAndSet(true, false)) {
      afterLostCommit.run();
      throw new SQLException("An I/O error occurred while sending to the backend.", "08006");
    }
  }

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  @Autowired DataSource dataSource;
  Http http;

  @BeforeEach
  void reset() {
    TestDatabase.reset(jdbc);
    LOSE_NEXT_COMMIT_REPLY.set(false);
    afterLostCommit = () -> {};
    http = new Http(port);
  }

  /**
   * Another pod writes version 2 of DROP_TABLE/dt-1 (straight into the tables), on a connection of
   * its own: the hook runs on the committing thread, where Spring would hand {@link #jdbc} the
   * transaction's connection, and its rollback would take these writes with it.
   */
  void anotherPodWritesDt1() {
    try (Connection own = dataSource.getConnection()) {
      own.setAutoCommit(true);
      writeVersion2(JdbcClient.create(new SingleConnectionDataSource(own, true)));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void writeVersion2(JdbcClient jdbc) {
    jdbc.sql("UPDATE revision_counter SET revision = revision + 1 WHERE id = 1").update();
    jdbc.sql(
            """
            INSERT INTO document_versions
                (kind, id, version, revision, status, content_hash, size_bytes, zone, payload,
                 shard, updated_at, updated_by, request_id)
            SELECT 'DROP_TABLE', 'dt-1', 2, revision, 'ACTIVE', 'another-pod', 2, NULL, '{}',
                   :shard, now(), 'another-pod', 'another-request'
              FROM revision_counter WHERE id = 1
            """)
        .param("shard", JdbcCatalogStore.shardOf(Kind.DROP_TABLE, "dt-1"))
        .update();
    jdbc.sql(
            """
            UPDATE documents
               SET version = 2, content_hash = 'another-pod',
                   revision = (SELECT revision FROM revision_counter WHERE id = 1)
             WHERE kind = 'DROP_TABLE' AND id = 'dt-1'
            """)
        .update();
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

  /**
   * The fault suite found this: between the lost reply and the retry another pod wrote the same
   * document, so the head no longer showed this call's write, and the retry wrote it again.
   */
  @Test
  void aWriteWhoseCommitReplyIsLostIsNotWrittenAgainAfterAnotherPodMovedTheDocument() {
    LOSE_NEXT_COMMIT_REPLY.set(true);
    afterLostCommit = this::anotherPodWritesDt1;

    Http.Response r = http.put("/api/v1/drop-tables/dt-1", dropTable("gold", 1));

    assertThat(r.status()).as(r.body()).isEqualTo(201);
    assertThat(r.json().get("version").asLong()).isEqualTo(1);
    assertThat(r.json().has("unchanged")).isFalse();
    assertThat(versions()).as("this call's version and the other pod's, none twice").isEqualTo(2);
    assertThat(
            jdbc.sql("SELECT count(*) FROM document_versions WHERE payload LIKE '%gold%'")
                .query(Long.class)
                .single())
        .isEqualTo(1);
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
