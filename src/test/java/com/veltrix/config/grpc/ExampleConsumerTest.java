package com.veltrix.config.grpc;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.grpc.ExampleConsumer.Held;
import com.veltrix.config.grpc.ExampleConsumer.Key;
import com.veltrix.config.grpc.v1.ConfigKind;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
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
}
