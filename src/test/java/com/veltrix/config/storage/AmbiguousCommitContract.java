package com.veltrix.config.storage;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.catalog.ChangeEvent;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.RevisionCommitted;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.Sleep;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.WrapDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The commit reply is lost: COMMIT succeeds in the database, then the connection breaks before the
 * service hears so (CockroachDB's 40003, or a cut during COMMIT). The retried call must report its
 * own write as written, exactly once, instead of a no-op, a 412 or a second version. Also here,
 * because it needs the same hook into the append: another pod writing the document between a call's
 * reads and its append (the write is rebased, with or without its reply lost). Run against
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

  /** Runs once, before the next statement that carries its own COMMIT is sent (the append). */
  static volatile Runnable beforeNextAppend = () -> {};

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

    @Bean
    Commits commits() {
      return new Commits();
    }
  }

  /** The commits the writer announces (what the watches of this instance are woken with). */
  static class Commits {
    final List<RevisionCommitted> seen = new CopyOnWriteArrayList<>();

    @EventListener
    void on(RevisionCommitted commit) {
      seen.add(commit);
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
            if (m.getName().startsWith("execute")) {
              Runnable before = beforeNextAppend;
              beforeNextAppend = () -> {};
              before.run();
            }
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
  @Autowired Commits commits;
  @Autowired MeterRegistry meters;
  @Autowired JdbcClient jdbc;
  @Autowired DataSource dataSource;
  Http http;

  @BeforeEach
  void reset() {
    TestDatabase.reset(jdbc);
    LOSE_NEXT_COMMIT_REPLY.set(false);
    afterLostCommit = () -> {};
    beforeNextAppend = () -> {};
    commits.seen.clear(); // revisions start again at 1 in every test
    http = new Http(port);
  }

  /**
   * Another pod writes the next version of DROP_TABLE/dt-1 (straight into the tables), on a
   * connection of its own: the hook runs on the committing thread, where Spring would hand {@link
   * #jdbc} the transaction's connection, and its rollback would take these writes with it.
   */
  void anotherPodWritesDt1() {
    try (Connection own = dataSource.getConnection()) {
      own.setAutoCommit(true);
      writeNextVersion(JdbcClient.create(new SingleConnectionDataSource(own, true)));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void writeNextVersion(JdbcClient jdbc) {
    jdbc.sql("UPDATE revision_counter SET revision = revision + 1 WHERE id = 1").update();
    jdbc.sql(
            """
            INSERT INTO document_versions
                (kind, id, version, revision, status, content_hash, size_bytes, zone, payload,
                 shard, updated_at, updated_by, request_id)
            SELECT 'DROP_TABLE', 'dt-1', d.version + 1, c.revision, 'ACTIVE',
                   'another-pod-' || (d.version + 1), 2, NULL, '{}', :shard, now(),
                   'another-pod', 'another-request'
              FROM revision_counter c, documents d
             WHERE c.id = 1 AND d.kind = 'DROP_TABLE' AND d.id = 'dt-1'
            """)
        .param("shard", JdbcCatalogStore.shardOf(Kind.DROP_TABLE, "dt-1"))
        .update();
    jdbc.sql(
            """
            UPDATE documents
               SET version = version + 1, content_hash = 'another-pod-' || (version + 1),
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

  /**
   * Another pod moves the head between this call's reads and its append. An upsert with no
   * precondition needs the head only for its number: the append stores it after the other pod's
   * version in the same attempt (no retry), and the answer, the stored row and the commit announced
   * to this instance's watches all say that version.
   */
  @Test
  void aWriteWhoseHeadMovedBeforeItsAppendIsStoredAfterThatHeadInOneAttempt() {
    http.put("/api/v1/drop-tables/dt-1", dropTable("gold", 1));
    double retried = meters.counter("veltrix.db.retries", "outcome", "retried").count();
    double rebased = meters.counter("veltrix.writes.rebased").count();
    beforeNextAppend = this::anotherPodWritesDt1;

    Http.Response r = http.put("/api/v1/drop-tables/dt-1", dropTable("silver", 1));

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("version").asLong()).isEqualTo(3);
    assertThat(meters.counter("veltrix.db.retries", "outcome", "retried").count())
        .isEqualTo(retried);
    assertThat(meters.counter("veltrix.writes.rebased").count()).isEqualTo(rebased + 1);
    Http.Response read = http.get("/api/v1/drop-tables/dt-1");
    assertThat(read.json().get("version").asLong()).isEqualTo(3);
    assertThat(read.body()).contains("silver");
    // announced just after the answer is handed over, on the committer's thread
    RevisionCommitted third = null;
    for (int i = 0; i < 100 && third == null; i++, Sleep.millis(20)) {
      third = commits.seen.stream().filter(c -> c.revision() == 3).findFirst().orElse(null);
    }
    assertThat(third).as("the commit of revision 3, announced").isNotNull();
    assertThat(third.events()).extracting(ChangeEvent::version).containsExactly(3L);
  }

  /**
   * Another pod moves the head between this call's reads and its append, so the append stores the
   * write one version later than planned (rebased); the reply is lost and another pod writes again
   * before the retry. The retry must find the write where the rebase put it, not only where it was
   * planned, and not write it a second time.
   */
  @Test
  void aRebasedWriteWhoseCommitReplyIsLostIsNotWrittenAgain() {
    rebaseTheNextWriteOfDt1AndLoseItsCommitReply();

    Http.Response r = http.put("/api/v1/drop-tables/dt-1", dropTable("silver", 1));

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("version").asLong())
        .as("planned 2, rebased after the other pod's 2")
        .isEqualTo(3);
    assertThat(r.json().has("unchanged")).isFalse();
    assertThat(LOSE_NEXT_COMMIT_REPLY).isFalse();
    assertThat(versions()).as("1, the other pod's 2 and 4, and this call's 3, once").isEqualTo(4);
    assertThat(
            jdbc.sql("SELECT count(*) FROM document_versions WHERE payload LIKE '%silver%'")
                .query(Long.class)
                .single())
        .isEqualTo(1);
  }

  /**
   * The same with an idempotency key: the batch is stored after the other pod's version in one
   * attempt, and a replay with the key answers what the first call answered (version 3, this call's
   * content), though the record stores the number the write planned (2, the other pod's).
   */
  @Test
  void aKeyedWriteWhoseHeadMovedIsStoredAfterThatHeadAndReplaysTheVersionItGot() {
    http.put("/api/v1/drop-tables/dt-1", dropTable("gold", 1));
    double retried = meters.counter("veltrix.db.retries", "outcome", "retried").count();
    beforeNextAppend = this::anotherPodWritesDt1;

    Http.Response first = http.post("/api/v1/batches", silverBatch(), "Idempotency-Key", "k-1");
    Http.Response replay = http.post("/api/v1/batches", silverBatch(), "Idempotency-Key", "k-1");

    assertThat(first.status()).as(first.body()).isEqualTo(200);
    assertThat(first.json().at("/results/0/version").asLong()).isEqualTo(3);
    assertThat(meters.counter("veltrix.db.retries", "outcome", "retried").count())
        .isEqualTo(retried);
    assertThat(replay.json()).isEqualTo(first.json());
    assertThat(replay.body()).contains("silver");
  }

  /**
   * A keyed write rebased as above whose commit reply is lost, with another pod writing again
   * before the retry: the retry finds the record and answers the version the write got.
   */
  @Test
  void aRebasedKeyedWriteWhoseCommitReplyIsLostAnswersTheVersionItGot() {
    rebaseTheNextWriteOfDt1AndLoseItsCommitReply();

    Http.Response r = http.post("/api/v1/batches", silverBatch(), "Idempotency-Key", "k-2");

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(LOSE_NEXT_COMMIT_REPLY).isFalse();
    assertThat(r.json().at("/results/0/version").asLong()).isEqualTo(3);
    assertThat(r.body()).contains("silver");
    assertThat(versions()).as("1, the other pod's 2 and 4, and this call's 3, once").isEqualTo(4);
  }

  /**
   * dt-1 at version 1; another pod writes it between the next write's reads and its append, that
   * write's commit reply is lost, and another pod writes it again before the retry.
   */
  private void rebaseTheNextWriteOfDt1AndLoseItsCommitReply() {
    http.put("/api/v1/drop-tables/dt-1", dropTable("gold", 1));
    beforeNextAppend = this::anotherPodWritesDt1;
    LOSE_NEXT_COMMIT_REPLY.set(true);
    afterLostCommit = this::anotherPodWritesDt1;
  }

  private static String silverBatch() {
    return "{\"writes\":[{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-1\","
        + "\"payload\":"
        + dropTable("silver", 1)
        + "}]}";
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
    String body = batchOfDt1AndDt2();
    LOSE_NEXT_COMMIT_REPLY.set(true);

    Http.Response first = http.post("/api/v1/batches", body, "Idempotency-Key", "amb-1");
    Http.Response replay = http.post("/api/v1/batches", body, "Idempotency-Key", "amb-1");

    assertThat(first.status()).as(first.body()).isEqualTo(200);
    assertThat(first.json().get("revision").asLong()).isEqualTo(1);
    assertThat(replay.json()).isEqualTo(first.json());
    assertThat(versions()).isEqualTo(2);
  }

  /**
   * A batch that left one of its documents unchanged loses its commit reply, and another pod then
   * writes that document twice: the retry finds its own versions and reports the unchanged one as
   * it was at the batch's revision, found below the head that moved since, not the head.
   */
  @Test
  void aBatchWhoseCommitReplyIsLostReportsItsUnchangedDocumentAsItWasAtThatCommit() {
    http.put("/api/v1/drop-tables/dt-1", dropTable("gold", 1));
    String body = batchOfDt1AndDt2();
    LOSE_NEXT_COMMIT_REPLY.set(true);
    afterLostCommit =
        () -> {
          anotherPodWritesDt1();
          anotherPodWritesDt1();
        };

    Http.Response r = http.post("/api/v1/batches", body);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("revision").asLong()).isEqualTo(2);
    JsonNode unchanged = r.json().get("results").get(0);
    assertThat(unchanged.get("id").asText()).isEqualTo("dt-1");
    assertThat(unchanged.get("unchanged").asBoolean()).as(r.body()).isTrue();
    assertThat(unchanged.get("version").asLong())
        .as("dt-1 at revision 2, not its head")
        .isEqualTo(1);
    assertThat(r.json().get("results").get(1).get("version").asLong()).isEqualTo(1);
    assertThat(versions()).as("dt-1's three versions and dt-2's one").isEqualTo(4);
  }

  /** A batch that upserts dt-1 (gold, 1) and dt-2 (iron, 1). */
  private static String batchOfDt1AndDt2() {
    return "{\"writes\":[{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-1\",\"payload\":"
        + dropTable("gold", 1)
        + "},{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-2\",\"payload\":"
        + dropTable("iron", 1)
        + "}]}";
  }
}
