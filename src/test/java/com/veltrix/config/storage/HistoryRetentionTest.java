package com.veltrix.config.storage;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.veltrix.config.grpc.ExampleConsumer;
import com.veltrix.config.grpc.ExampleConsumerTest;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.WatchChangesRequest;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Iterator;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Retention over the whole service: with history kept for 0 s, a pass moves the horizon to the
 * current revision and the next prunes every superseded version. Reads before the horizon are 410 /
 * FAILED_PRECONDITION with the oldest retained revision; everything from it on reads as before; a
 * consumer that fell behind lists again and converges.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "management.server.port=0",
      "veltrix.history.retain-for=0s",
      "veltrix.history.grace=0s",
      "veltrix.history.prune-every=0s", // passes run by hand
      "veltrix.history.batch=7", // many small transactions
      "veltrix.idempotency.retain-for=0s",
      "veltrix.grpc.watch-progress-interval=300ms"
    })
class HistoryRetentionTest {

  static final int GRPC_PORT = FreePort.find();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
    registry.add("grpc.server.port", () -> GRPC_PORT);
  }

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  @Autowired HistoryRetention retention;
  Http http;
  ManagedChannel channel;

  @BeforeEach
  void reset() {
    TestDatabase.reset(jdbc);
    http = new Http(port);
    channel = channel();
  }

  @AfterEach
  void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  static ManagedChannel channel() {
    return ManagedChannelBuilder.forAddress("localhost", GRPC_PORT).usePlaintext().build();
  }

  long revision() {
    return http.get("/api/v1/revision").json().get("revision").asLong();
  }

  long count(String sql) {
    return jdbc.sql(sql).query(Long.class).single();
  }

  void write(String id, int weight) {
    assertThat(http.put("/api/v1/drop-tables/" + id, dropTable("item", weight)).status())
        .isIn(200, 201);
  }

  @Test
  void readsBeforeTheHorizonAreGoneAndEverythingFromItReadsAsBefore() {
    for (int v = 1; v <= 3; v++) {
      write("a", v);
    }
    write("b", 1);
    assertThat(http.delete("/api/v1/drop-tables/b").status()).isEqualTo(200);
    String batch =
        "{\"writes\":[{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"c\",\"payload\":"
            + dropTable("c", 1)
            + "}]}";
    assertThat(http.post("/api/v1/batches", batch, "Idempotency-Key", "k-1").status())
        .isEqualTo(200);
    long current = revision();
    String listing = http.get("/api/v1/drop-tables?atRevision=" + current).body();
    assertThat(count("SELECT count(*) FROM document_versions")).isEqualTo(6);
    Instant firstCommit =
        jdbc.sql("SELECT committed_at FROM revision_times WHERE revision = 1")
            .query(Timestamp.class)
            .single()
            .toInstant();
    jdbc.sql(
            """
            INSERT INTO schedules (id, apply_at, status, description, writes, write_count,
                                   created_by, created_at, request_id, request_hash)
            VALUES ('done', now() - interval '1 hour', 'CANCELLED', '', '[]', 0, 't', now(), 'r', 'h'),
                   ('later', now() + interval '1 hour', 'PENDING', '', '[]', 0, 't', now(), 'r', 'h')
            """)
        .update();

    retention.pass(); // moves the horizon to the current revision
    assertThat(retention.horizon().revision()).isEqualTo(current);
    assertThat(http.get("/api/v1/drop-tables/a?version=1").status())
        .as("nothing is pruned before the grace period (here 0 s) and the next pass")
        .isEqualTo(200);
    retention.pass(); // prunes

    assertThat(retention.horizon().prunedThrough()).isEqualTo(current);
    assertThat(count("SELECT count(*) FROM document_versions"))
        .as("only the current version of each document is left")
        .isEqualTo(count("SELECT count(*) FROM documents"))
        .isEqualTo(3);
    assertThat(count("SELECT count(*) FROM idempotency_records")).isZero();
    assertThat(count("SELECT count(*) FROM revision_times"))
        .as("commit times from the horizon on")
        .isEqualTo(1);
    assertThat(jdbc.sql("SELECT id FROM schedules").query(String.class).list())
        .as("finished schedules go with the history; pending ones stay")
        .containsExactly("later");
    assertThat(http.get("/api/v1/drop-tables/a?atTime=" + firstCommit).status()).isEqualTo(410);

    Http.Response gone = http.get("/api/v1/drop-tables/a?atRevision=" + (current - 1));
    assertThat(gone.status()).isEqualTo(410);
    assertThat(gone.json().get("oldestRetainedRevision").asLong()).isEqualTo(current);
    assertThat(http.get("/api/v1/changes?afterRevision=0").status()).isEqualTo(410);
    assertThat(http.get("/api/v1/drop-tables?atRevision=1").status()).isEqualTo(410);
    assertThat(http.get("/api/v1/drop-tables/a?version=1").status()).isEqualTo(410);
    assertThat(http.get("/api/v1/drop-tables/a?version=9").status()).isEqualTo(404);
    assertThatThrownBy(() -> watch(0).hasNext())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));

    assertThat(http.get("/api/v1/drop-tables?atRevision=" + current).body()).isEqualTo(listing);
    assertThat(
            http.get("/api/v1/drop-tables/a?atRevision=" + current).json().get("version").asLong())
        .isEqualTo(3);
    write("a", 4);
    assertThat(http.get("/api/v1/changes?afterRevision=" + current).json().get("events").size())
        .isEqualTo(1);
  }

  /**
   * Every pod runs passes: two at once (as two pods would, through their own connections) agree
   * through the compare-and-set on history_horizon; neither fails and nothing is pruned twice or
   * left behind.
   */
  @Test
  void passesRunningAtOnceAgreeThroughTheDatabase() throws Exception {
    for (int round = 0; round < 4; round++) {
      for (int i = 0; i < 20; i++) {
        write("d" + i, round + 1);
      }
      long current = revision();
      ExecutorService pods = Executors.newFixedThreadPool(2);
      for (int pass = 0; pass < 2; pass++) { // move the horizon, then prune
        var first = pods.submit(() -> retention.pass());
        var second = pods.submit(() -> retention.pass());
        first.get(30, TimeUnit.SECONDS);
        second.get(30, TimeUnit.SECONDS);
      }
      pods.shutdown();
      assertThat(retention.horizon().revision()).isEqualTo(current);
      assertThat(retention.horizon().prunedThrough()).isEqualTo(current);
      assertThat(count("SELECT count(*) FROM document_versions")).isEqualTo(20);
    }
  }

  Iterator<WatchChangesResponse> watch(long after) {
    return ConfigServiceGrpc.newBlockingStub(channel)
        .withCallCredentials(Tokens.bearer(Tokens.admin()))
        .watchChanges(WatchChangesRequest.newBuilder().setAfterRevision(after).build());
  }

  @Test
  void aConsumerThatFellBehindTheHorizonListsAgainAndConverges() throws Exception {
    for (int i = 0; i < 10; i++) {
      write("dt-" + i, 1);
    }
    ExampleConsumer consumer = new ExampleConsumer(HistoryRetentionTest::channel);
    ExecutorService threads = Executors.newCachedThreadPool();
    Future<?> running = threads.submit(consumer);
    ExampleConsumerTest.awaitRevision(consumer, revision());
    consumer.stop();
    running.get(10, TimeUnit.SECONDS);

    // while it is away: updates, retirements, new documents, and history pruned past it
    for (int i = 0; i < 10; i += 2) {
      write("dt-" + i, 2);
    }
    for (int i = 1; i < 10; i += 3) {
      assertThat(http.delete("/api/v1/drop-tables/dt-" + i).status()).isEqualTo(200);
    }
    write("dt-new", 1);
    retention.pass();
    retention.pass();
    assertThat(retention.horizon().revision()).isGreaterThan(consumer.revision());

    consumer.restart();
    running = threads.submit(consumer);
    ExampleConsumerTest.awaitRevision(consumer, revision());
    consumer.stop();
    running.get(10, TimeUnit.SECONDS);
    threads.shutdown();

    assertThat(consumer.relists()).isEqualTo(1);
    assertThat(consumer.view()).isEqualTo(ExampleConsumerTest.activeInDatabase(jdbc));
  }
}
