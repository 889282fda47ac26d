package com.veltrix.config.catalog.write;

import static com.veltrix.config.support.Payloads.dropTable;
import static com.veltrix.config.support.Payloads.treasureLocation;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.catalog.CallContext;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.PreconditionFailedException;
import com.veltrix.config.catalog.StoreUnavailableException;
import com.veltrix.config.catalog.write.StatementCounter.Transaction;
import com.veltrix.config.catalog.write.WriteCommand.Retire;
import com.veltrix.config.catalog.write.WriteCommand.Rollback;
import com.veltrix.config.catalog.write.WriteCommand.Upsert;
import com.veltrix.config.support.Await;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.WrapDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The write path against the real PostgreSQL, watched at the pool's connections: the revision row
 * (where every writer in the cluster meets) is held for the same one or two statements whatever the
 * batch, the last of them carrying the COMMIT, and the reads before it are a fixed number of
 * statements too; requests waiting together are committed together at one revision, each answered
 * on its own; a group out of its earliest deadline refuses only that request.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"management.server.port=0"})
class WritePathTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The callers of the write tests of this package: daemon threads, idle ones gone after 60 s. */
  static final ExecutorService CALLERS =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "test-caller");
            t.setDaemon(true);
            return t;
          });

  /** While set, every statement fails as on a connection the network reset. */
  static final AtomicBoolean UNREACHABLE = new AtomicBoolean();

  @TestConfiguration
  static class Watched {
    @Bean
    static BeanPostProcessor countStatements() {
      return WrapDataSource.with(StatementCounter::new);
    }

    @Bean
    static BeanPostProcessor cutConnections() {
      return WrapDataSource.connections(
          (method, args, call) -> {
            if (UNREACHABLE.get() && method.getName().endsWith("Statement")) {
              throw new SQLException(
                  "An I/O error occurred while sending to the backend.", "08006");
            }
            return call.proceed();
          });
    }
  }

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
    FreePort.register(registry, "grpc.server.port");
  }

  @Autowired ConfigWriter writer;
  @Autowired WriteGroups groups;
  @Autowired JdbcClient jdbc;
  @Autowired DataSource dataSource;

  @BeforeEach
  void reset() {
    UNREACHABLE.set(false);
    TestDatabase.reset(jdbc);
    counter().clear();
  }

  /** The counter, wherever the service's own wrappers put it in the chain of data sources. */
  StatementCounter counter() {
    DataSource ds = dataSource;
    while (!(ds instanceof StatementCounter)) {
      ds = ((DelegatingDataSource) ds).getTargetDataSource();
    }
    return (StatementCounter) ds;
  }

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static DocumentKey dt(String id) {
    return new DocumentKey(Kind.DROP_TABLE, id);
  }

  static DocumentKey tl(String id) {
    return new DocumentKey(Kind.TREASURE_LOCATION, id);
  }

  static final WriteContext TESTER = new WriteContext("tester", "req-1");

  /** {@code n} drop tables and {@code n} treasure locations, each on its drop table. */
  static List<WriteCommand> upserts(int n, int weight) {
    List<WriteCommand> writes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      writes.add(new Upsert(dt("d" + i), json(dropTable("item", weight)), Precondition.NONE));
      writes.add(
          new Upsert(tl("l" + i), json(treasureLocation("zone-a", "d" + i)), Precondition.NONE));
    }
    return writes;
  }

  static List<WriteCommand> each(int n, IntFunction<List<WriteCommand>> writes) {
    List<WriteCommand> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.addAll(writes.apply(i));
    }
    return all;
  }

  /** Runs every kind of batch with {@code n} × 2 documents; the statements of each, by name. */
  Map<String, List<Transaction>> statementsOfEveryKindOfBatch(int n) {
    Map<String, List<Transaction>> seen = new LinkedHashMap<>();
    Map<String, Runnable> batches = new LinkedHashMap<>();
    batches.put("create", () -> writer.batch(upserts(n, 1), Optional.empty(), TESTER));
    batches.put("re-push", () -> writer.batch(upserts(n, 1), Optional.empty(), TESTER));
    batches.put("update half", () -> writer.batch(upserts(n, 2), Optional.empty(), TESTER));
    batches.put(
        "retire",
        () ->
            writer.batch(
                each(
                    n,
                    i ->
                        List.of(
                            new Retire(tl("l" + i), Precondition.NONE),
                            new Retire(dt("d" + i), Precondition.NONE))),
                Optional.empty(),
                TESTER));
    batches.put(
        "rollback",
        () ->
            writer.batch(
                each(
                    n,
                    i ->
                        List.of(
                            new Rollback(dt("d" + i), 1, Precondition.NONE),
                            new Rollback(tl("l" + i), 1, Precondition.NONE))),
                Optional.empty(),
                TESTER));
    batches.put("with a key", () -> writer.batch(upserts(n, 3), Optional.of("key-" + n), TESTER));
    batches.put("replay", () -> writer.batch(upserts(n, 3), Optional.of("key-" + n), TESTER));
    batches.forEach(
        (name, batch) -> {
          counter().clear();
          batch.run();
          seen.put(name, counter().finished());
        });
    return seen;
  }

  @Test
  void theRevisionRowIsHeldForTheSameStatementsWhateverTheBatchSize() {
    Map<String, List<Transaction>> one = statementsOfEveryKindOfBatch(1);
    reset();
    Map<String, List<Transaction>> many = statementsOfEveryKindOfBatch(500); // 1,000 writes

    assertThat(many).isEqualTo(one); // the same transactions, statement for statement
    // one read (the heads) before the transaction; BEGIN, the append and COMMIT in the first round
    // trip that holds the row, the references and COMMIT in the second
    assertThat(one.get("create")).containsExactly(new Transaction(1, 2, true, true));
    for (List<Transaction> batch : one.values()) {
      assertThat(batch)
          .filteredOn(tx -> tx.whileHeld() > 0)
          .as("COMMIT travels with the last statement that holds the row")
          .allSatisfy(tx -> assertThat(tx.commitSent()).isTrue());
      assertThat(batch)
          .allSatisfy(
              tx ->
                  assertThat(tx.whileHeld())
                      .as("statements holding the row")
                      .isLessThanOrEqualTo(2));
      assertThat(batch)
          .allSatisfy(
              tx -> assertThat(tx.before()).as("reads and checks first").isLessThanOrEqualTo(6));
    }
    assertThat(one.get("re-push"))
        .as("a no-op takes no revision")
        .allSatisfy(tx -> assertThat(tx.whileHeld()).isZero());
    assertThat(one.get("replay"))
        .as("a replay takes no revision")
        .allSatisfy(tx -> assertThat(tx.whileHeld()).isZero());
    assertThat(jdbc.sql("SELECT count(*) FROM document_versions").query(Long.class).single())
        .isEqualTo(1000L + 500 + 1000 + 1000 + 500);
  }

  /**
   * The store sends a write of one document with each source of rows as subscripts of its arrays
   * ({@code storage/ArrayRows}): the text PostgreSQL plans once per session ({@code
   * CatalogStorePostgresTest.theAppendOfOneDocumentIsPlannedOncePerSessionNotAtEveryWrite}, which
   * shapes the text itself and so cannot see whether the store does). A batch of several documents
   * keeps the {@code unnest}.
   */
  @Test
  void aWriteOfOneDocumentSendsItsAppendShapedForOneRow() {
    write("shaped");
    List<String> one = counter().revisionStatements();
    counter().clear();
    writer.batch(upserts(2, 1), Optional.empty(), TESTER);
    List<String> several = counter().revisionStatements();

    assertThat(one).singleElement().asString().doesNotContain("unnest(").contains(")[1]");
    assertThat(several).singleElement().asString().contains("unnest(");
  }

  /** Runs {@code call} on another thread with a long deadline of its own. */
  static <T> Future<T> call(Callable<T> call) {
    return within(20_000, call);
  }

  /** Runs {@code call} on another thread with {@code millis} to live from now. */
  static <T> Future<T> within(long millis, Callable<T> call) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    return CALLERS.submit(
        () ->
            CallContext.call(
                deadline,
                () -> {
                  try {
                    return call.call();
                  } catch (Exception e) {
                    throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
                  }
                }));
  }

  @Test
  void requestsWaitingTogetherAreCommittedAtOneRevisionEachAnsweredOnItsOwn() throws Exception {
    Future<BatchResult> head;
    Map<String, Future<BatchResult>> waiting = new LinkedHashMap<>();
    try (Connection holder = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "")) {
      // given: another writer holds the revision row, and a first request queues on it
      holder.setAutoCommit(false);
      holder.createStatement().execute("UPDATE revision_counter SET revision = revision");
      head = call(() -> writer.batch(upserts(1, 1), Optional.empty(), TESTER));
      Await.until(() -> lockWaiters() == 1);
      // when: more requests arrive while it waits ...
      for (int i = 0; i < 12; i++) {
        String id = "g" + i;
        waiting.put(id, submit(dt(id), "actor-" + i, "req-" + i, Precondition.NONE));
      }
      waiting.put("cas", submit(dt("g-cas"), "cas", "req-cas", Precondition.ifMatch(7)));
      waiting.put("same-1", submit(dt("same"), "first", "req-s1", Precondition.NONE));
      // each call is submitted from a thread of its own: "same-2" must queue after "same-1" (a
      // clean-clone CI run queued it first, and its If-Match 1 met version 0)
      Await.until(() -> groups.queued() == waiting.size());
      waiting.put("same-2", submit(dt("same"), "second", "req-s2", Precondition.ifMatch(1)));
      for (String k : List.of("key-1", "key-2")) {
        List<WriteCommand> keyed =
            List.of(new Upsert(dt("keyed"), json(dropTable("k", 5)), Precondition.NONE));
        waiting.put(
            k,
            call(() -> writer.batch(keyed, Optional.of("same-key"), new WriteContext("keyed", k))));
      }
      Await.until(() -> groups.queued() == waiting.size());
      holder.rollback(); // ... and the row is released
    }

    long first = head.get(10, TimeUnit.SECONDS).revision();
    long group = waiting.get("g0").get(10, TimeUnit.SECONDS).revision();
    // then: everything that waited went in at one revision, the one after the first request's
    assertThat(group).isEqualTo(first + 1);
    for (int i = 0; i < 12; i++) {
      BatchResult r = waiting.get("g" + i).get(10, TimeUnit.SECONDS);
      assertThat(r.revision()).isEqualTo(group);
      assertThat(r.results().get(0).document().updatedBy()).isEqualTo("actor-" + i);
    }
    assertThat(
            jdbc.sql(
                    "SELECT count(DISTINCT request_id) FROM document_versions"
                        + " WHERE revision = :r AND id LIKE 'g%'")
                .param("r", group)
                .query(Long.class)
                .single())
        .as("each version keeps its own request id")
        .isEqualTo(12);
    // a request whose precondition fails is answered alone
    assertThatThrownBy(() -> waiting.get("cas").get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(PreconditionFailedException.class);
    assertThat(
            jdbc.sql("SELECT count(*) FROM documents WHERE id = 'g-cas'")
                .query(Long.class)
                .single())
        .isZero();
    // a group never writes a document twice: the second write of "same" came after the first
    BatchResult same1 = waiting.get("same-1").get(10, TimeUnit.SECONDS);
    BatchResult same2 = waiting.get("same-2").get(10, TimeUnit.SECONDS);
    assertThat(same1.revision()).isEqualTo(group);
    assertThat(same2.revision()).isEqualTo(group + 1);
    assertThat(same2.results().get(0).document().version()).isEqualTo(2);
    // idempotency per request: the second call with the key replays the first
    BatchResult key1 = waiting.get("key-1").get(10, TimeUnit.SECONDS);
    BatchResult key2 = waiting.get("key-2").get(10, TimeUnit.SECONDS);
    assertThat(key2).isEqualTo(key1);
    assertThat(
            jdbc.sql("SELECT count(*) FROM document_versions WHERE id = 'keyed'")
                .query(Long.class)
                .single())
        .isEqualTo(1);
  }

  /**
   * A group whose transaction runs out of its earliest deadline because the database stopped
   * answering (a cut that outlasts that request's budget) answers that request 503 and runs its
   * other members again, each within its own time. Before, every member was answered 503 with it: a
   * gRPC write with a deadline of its own, grouped behind a REST write, failed with it.
   */
  @Test
  void theOthersOfAGroupThatRanOutOfItsEarliestDeadlineAreCommittedWithinTheirOwn()
      throws Exception {
    Future<BatchResult> earliest;
    List<Future<BatchResult>> others = new ArrayList<>();
    try (Connection holder = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "")) {
      // given: the committer is busy with a write queued behind another writer's revision row
      Future<BatchResult> first = committerWaitingOn(holder);
      // and behind it a request with 1.5 s, then three with 10 s: the next group
      earliest = within(1_500, () -> write("earliest"));
      Await.until(() -> groups.queued() == 1);
      for (int i = 0; i < 3; i++) {
        String id = "other-" + i;
        others.add(within(10_000, () -> write(id)));
      }
      Await.until(() -> groups.queued() == 4);
      // when: the database stops answering as the row is released, for longer than 1.5 s
      UNREACHABLE.set(true);
      holder.rollback();
      first.get(10, TimeUnit.SECONDS); // its statement was sent before the cut
    }
    assertThatThrownBy(() -> earliest.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(StoreUnavailableException.class);
    UNREACHABLE.set(false); // the network is back, with time left for the others

    // then: each of the others is committed, once
    for (Future<BatchResult> other : others) {
      assertThat(other.get(10, TimeUnit.SECONDS).results()).hasSize(1);
    }
    assertThat(
            jdbc.sql("SELECT count(*) FROM document_versions WHERE id LIKE 'other-%'")
                .query(Long.class)
                .single())
        .isEqualTo(3);
    assertThat(
            jdbc.sql("SELECT count(*) FROM document_versions WHERE id = 'earliest'")
                .query(Long.class)
                .single())
        .isZero();
  }

  /**
   * A batch without a deadline of its own gets time in proportion to its size (300 of the 1,000
   * writes a batch may have: 1.5 s of the largest batch's 5 s), and a gRPC client may give one
   * seconds (30 s here). Ordered by such a deadline, writes with an earlier one that kept arriving
   * went first for as long as they came, or took it into a group that ran under their 250 ms; so it
   * is committed at the turn the request budget would have given it, with other large batches but
   * without shorter writes, under the earliest deadline of its group.
   */
  @Test
  void largeBatchesAreCommittedInTheirTurnAheadOfWritesQueuedAfterThem() throws Exception {
    List<Future<BatchResult>> large = new ArrayList<>();
    List<Future<BatchResult>> after = new ArrayList<>();
    try (Connection holder = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "")) {
      // given: the committer is busy with a write queued behind another writer's revision row
      Future<BatchResult> first = committerWaitingOn(holder);
      // and behind it two batches of 300, with the REST path's budget and with a caller's 30 s,
      // then three writes with 2 s
      for (String batch : List.of("a", "b")) {
        List<WriteCommand> writes =
            each(
                300,
                i ->
                    List.of(
                        new Upsert(
                            dt("large-" + batch + i), json(dropTable("l", 1)), Precondition.NONE)));
        Callable<BatchResult> call = () -> writer.batch(writes, Optional.empty(), TESTER);
        large.add(batch.equals("a") ? CALLERS.submit(call) : within(30_000, call));
        Await.until(() -> groups.queued() == large.size());
      }
      for (int i = 0; i < 3; i++) {
        String id = "after-" + i;
        after.add(within(2_000, () -> write(id)));
      }
      Await.until(() -> groups.queued() == 5);
      holder.rollback();
      first.get(10, TimeUnit.SECONDS);
    }

    long revision = large.get(0).get(10, TimeUnit.SECONDS).revision();
    assertThat(large.get(1).get(10, TimeUnit.SECONDS).revision())
        .as("the two large batches, in one group")
        .isEqualTo(revision);
    for (Future<BatchResult> write : after) {
      assertThat(write.get(10, TimeUnit.SECONDS).revision())
          .as("the writes queued after them, in one group after it")
          .isEqualTo(revision + 1);
    }
  }

  /**
   * Takes the revision row on {@code holder} and has the committer wait for it with the write of
   * "first" (each test starts from an empty database): what is submitted next queues until {@code
   * holder} lets the row go.
   */
  Future<BatchResult> committerWaitingOn(Connection holder) throws SQLException {
    holder.setAutoCommit(false);
    holder.createStatement().execute("UPDATE revision_counter SET revision = revision");
    Future<BatchResult> first = call(() -> write("first"));
    Await.until(() -> groups.queued() == 0 && lockWaiters() == 1);
    return first;
  }

  /** One single-document write of drop table {@code id}, sent as {@code id}. */
  BatchResult write(String id) {
    return write(writer, id);
  }

  static BatchResult write(ConfigWriter writer, String id) {
    List<WriteCommand> writes =
        List.of(new Upsert(dt(id), json(dropTable(id, 1)), Precondition.NONE));
    return writer.batch(writes, Optional.empty(), new WriteContext(id, "req-" + id));
  }

  Future<BatchResult> submit(
      DocumentKey key, String actor, String requestId, Precondition precondition) {
    List<WriteCommand> writes = List.of(new Upsert(key, json(dropTable(actor, 1)), precondition));
    return call(() -> writer.batch(writes, Optional.empty(), new WriteContext(actor, requestId)));
  }

  long lockWaiters() {
    return lockWaiters(jdbc);
  }

  /** Sessions waiting for the revision row. */
  static long lockWaiters(JdbcClient jdbc) {
    return jdbc.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                + " AND query LIKE '%revision_counter%'")
        .query(Long.class)
        .single();
  }
}
