package com.veltrix.config.grpc;

import static com.veltrix.config.support.Payloads.dropTable;
import static com.veltrix.config.support.Payloads.largeDropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.grpc.ExampleConsumer.Held;
import com.veltrix.config.grpc.ExampleConsumer.Key;
import com.veltrix.config.grpc.v1.ConfigKind;
import io.grpc.ManagedChannelBuilder;
import java.net.ServerSocket;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The example consumer against the real server while writes continue and its connection is cut: at
 * the end its materialised view equals the database.
 */
public class ExampleConsumerTest extends GrpcPostgresTestBase {

  @Test
  void materialisedViewEqualsTheDatabaseAfterWritesAndADisconnect() throws Exception {
    for (int i = 0; i < 50; i++) {
      http.put("/api/v1/drop-tables/dt-" + i, dropTable("seed", i + 1));
    }
    ExampleConsumer consumer = new ExampleConsumer(this::channel);
    ExecutorService threads = Executors.newFixedThreadPool(2);
    AtomicBoolean writing = new AtomicBoolean(true);
    Future<Integer> writer =
        threads.submit(
            () -> {
              Random random = new Random(42);
              int writes = 0;
              while (writing.get()) {
                String id = "dt-" + random.nextInt(60);
                int status =
                    random.nextInt(5) == 0
                        ? http.delete("/api/v1/drop-tables/" + id).status()
                        : http.put(
                                "/api/v1/drop-tables/" + id,
                                dropTable("w", random.nextInt(1000) + 1))
                            .status();
                assertThat(status).isIn(200, 201, 404);
                writes++;
              }
              return writes;
            });
    Future<?> consuming = threads.submit(consumer);

    awaitRevision(consumer, 1);
    Thread.sleep(700);
    consumer.disconnect(); // forced, mid-stream, while writes go on
    Thread.sleep(700);
    writing.set(false);
    int writes = writer.get(30, TimeUnit.SECONDS);
    long finalRevision = http.get("/api/v1/revision").json().get("revision").asLong();
    awaitRevision(consumer, finalRevision);
    consumer.stop();
    consuming.get(10, TimeUnit.SECONDS);
    threads.shutdown();

    assertThat(writes).isGreaterThan(20);
    assertThat(consumer.connections()).isGreaterThanOrEqualTo(2);
    assertThat(consumer.view()).isEqualTo(activeInDatabase(jdbc));
  }

  /**
   * 120 documents of ~45 KB: the consumer's GetConfigs for them is answered in one message of ~5.5
   * MB, over gRPC's default inbound limit (4 MiB), which fails it on the consumer's side with
   * RESOURCE_EXHAUSTED however often it is asked again (the consumer asked 173 times in 20 s before
   * it raised its limit, and never loaded).
   */
  @Test
  void aManifestWhosePayloadsOutgrowGrpcsDefaultMessageLimitIsLoaded() throws Exception {
    for (int i = 0; i < 120; i++) {
      assertThat(http.put("/api/v1/drop-tables/large-" + i, largeDropTable()).status())
          .isEqualTo(201);
    }
    ExampleConsumer consumer = new ExampleConsumer(this::channel);
    try (ExampleConsumer.Running running = consumer.start()) {
      awaitRevision(consumer, http.get("/api/v1/revision").json().get("revision").asLong());
      assertThat(consumer.connections()).isEqualTo(1);
      assertThat(consumer.view()).hasSize(120).isEqualTo(activeInDatabase(jdbc));
    }
  }

  /**
   * A consumer whose service is down waits longer after each failed attempt: without the wait it
   * connected again the moment a connection was refused, thousands of times a second.
   */
  @Test
  void aConsumerWhoseServiceIsDownDoesNotAskInATightLoop() throws Exception {
    int nobody;
    try (ServerSocket socket = new ServerSocket(0)) {
      nobody = socket.getLocalPort(); // closed again: connections to it are refused
    }
    ExampleConsumer consumer =
        new ExampleConsumer(
            () -> ManagedChannelBuilder.forAddress("localhost", nobody).usePlaintext().build());
    try (ExampleConsumer.Running running = consumer.start()) {
      Thread.sleep(2_000);
    }
    System.out.println("CONSUMER attempts in 2 s on a closed port: " + consumer.connections());
    // waits of up to 100, 200, 400, 800, 1,600 ms...: about six attempts in 2 s
    assertThat(consumer.connections()).isBetween(2, 15);
    assertThat(consumer.revision()).isEqualTo(-1);
  }

  /** What a consumer's view must equal: every ACTIVE document's current version. */
  public static Map<Key, Held> activeInDatabase(JdbcClient jdbc) {
    Map<Key, Held> active = new HashMap<>();
    jdbc.sql(
            """
            SELECT v.kind, v.id, v.version, v.content_hash, v.payload
              FROM documents d
              JOIN document_versions v ON v.kind = d.kind AND v.id = d.id AND v.version = d.version
             WHERE d.status = 'ACTIVE'
            """)
        .query(
            rs -> {
              active.put(
                  new Key(
                      ConfigKind.valueOf("CONFIG_KIND_" + rs.getString("kind")),
                      rs.getString("id")),
                  new Held(
                      rs.getLong("version"),
                      rs.getString("content_hash"),
                      rs.getString("payload")));
            });
    return active;
  }

  public static void awaitRevision(ExampleConsumer consumer, long revision)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (consumer.revision() < revision) {
      assertThat(System.nanoTime())
          .as("consumer reached revision " + revision)
          .isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  /** The committed time of each revision so far, from the change feed. */
  Map<Long, Instant> commitTimes() {
    Map<Long, Instant> times = new HashMap<>();
    http.get("/api/v1/changes?afterRevision=0&limit=1000")
        .json()
        .get("events")
        .forEach(
            e ->
                times.put(
                    e.get("revision").asLong(), Instant.parse(e.get("committedAt").asText())));
    return times;
  }

  Map<String, Long> activeAt(Instant at) {
    Map<String, Long> active = new TreeMap<>();
    http.get("/api/v1/drop-tables?status=ACTIVE&atTime=" + at)
        .json()
        .get("items")
        .forEach(d -> active.put(d.get("id").asText(), d.get("version").asLong()));
    return active;
  }

  @Test
  void aReplayingConsumerSeesTheConfigurationLiveAtEachEventsTime() {
    http.put("/api/v1/drop-tables/dt-1", dropTable("iron", 1)); // r1
    http.put("/api/v1/drop-tables/dt-2", dropTable("copper", 1)); // r2
    http.put("/api/v1/drop-tables/dt-1", dropTable("gold", 2)); // r3
    http.delete("/api/v1/drop-tables/dt-2"); // r4
    http.put("/api/v1/drop-tables/dt-1", dropTable("holiday", 3)); // r5
    Map<Long, Instant> committed = commitTimes();
    List<Instant> events =
        List.of(
            committed.get(1L),
            committed.get(2L),
            committed.get(3L).minusNanos(1_000),
            committed.get(3L),
            committed.get(4L),
            committed.get(5L).plusSeconds(1));
    List<Map<String, Long>> expected =
        List.of(
            Map.of("dt-1", 1L),
            Map.of("dt-1", 1L, "dt-2", 1L),
            Map.of("dt-1", 1L, "dt-2", 1L),
            Map.of("dt-1", 2L, "dt-2", 1L),
            Map.of("dt-1", 2L),
            Map.of("dt-1", 3L));

    EventTimeView replay = new EventTimeView(blocking, events.get(0));
    for (int i = 0; i < events.size(); i++) {
      Map<String, Long> seen = new TreeMap<>();
      replay.at(events.get(i)).forEach((k, v) -> seen.put(k.id(), v.version()));
      assertThat(seen).as("event %d at %s", i, events.get(i)).isEqualTo(expected.get(i));
      assertThat(activeAt(events.get(i))).as("REST atTime %s", events.get(i)).isEqualTo(seen);
    }
  }
}
