package com.veltrix.config.grpc;

import static com.veltrix.config.support.Payloads.dropTable;
import static com.veltrix.config.support.Payloads.spawnRule;
import static com.veltrix.config.support.Payloads.treasureLocation;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.WatchChangesRequest;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
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
 * A commit made by this pod reaches its watchers at once, not at the next poll: with the poll set
 * to a minute, a watcher still sees the write (the bound is the feature: without the wake it would
 * wait the minute).
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "management.server.port=0",
      "veltrix.grpc.watch-poll-interval=60s",
      "veltrix.grpc.watch-progress-interval=60s"
    })
class WatchWakeTest {

  static final int GRPC_PORT = FreePort.find();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
    registry.add("grpc.server.port", () -> GRPC_PORT);
  }

  @LocalServerPort int restPort;
  @Autowired JdbcClient jdbc;
  @Autowired MeterRegistry meters;

  private ManagedChannel channel;
  private BlockingQueue<WatchChangesResponse> live;

  /** An empty database and a watch on it from revision 0, open and past its (empty) first page. */
  @BeforeEach
  void watchAnEmptyCatalog() throws InterruptedException {
    TestDatabase.reset(jdbc);
    channel = ManagedChannelBuilder.forAddress("localhost", GRPC_PORT).usePlaintext().build();
    live = watch(channel);
    Thread.sleep(500);
  }

  @AfterEach
  void closeTheChannel() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void aWriteThroughThisPodWakesItsWatchersWithoutWaitingForThePoll() throws Exception {
    new Http(restPort).put("/api/v1/drop-tables/dt-wake", dropTable("gold", 1));

    WatchChangesResponse event = live.poll(10, TimeUnit.SECONDS);
    while (event != null
        && event.getType() == WatchChangesResponse.ChangeType.CHANGE_TYPE_PROGRESS) {
      event = live.poll(10, TimeUnit.SECONDS);
    }
    assertThat(event).as("delivered before the next poll, a minute away").isNotNull();
    assertThat(event.getId()).isEqualTo("dt-wake");
    assertThat(event.getRevision()).isEqualTo(1);
  }

  /**
   * The events of this pod's own commits are sent from what its committer wrote, not read back from
   * the feed: they must be exactly what the feed holds (another watch, opened afterwards, reads
   * them from it), and no feed page may be read for them.
   */
  @Test
  void aWatchSendsThisPodsCommitsExactlyAsTheFeedHoldsThemWithoutReadingIt() throws Exception {
    double fromCommits = pages("commit");
    double fromFeed = pages("feed");

    Http http = new Http(restPort);
    String batch =
        """
        {"writes": [
          {"op": "upsert", "kind": "SPAWN_RULE", "id": "sr-1", "payload": %s},
          {"op": "upsert", "kind": "TREASURE_LOCATION", "id": "loc-1", "payload": %s},
          {"op": "upsert", "kind": "DROP_TABLE", "id": "dt-1", "payload": %s},
          {"op": "upsert", "kind": "DROP_TABLE", "id": "Dt-0", "payload": %s}
        ]}"""
            .formatted(
                spawnRule("zone-a", "loc-1", "dt-1"),
                treasureLocation("zone-a", "dt-1"),
                dropTable("gold", 1),
                dropTable("iron", 2));
    assertThat(http.post("/api/v1/batches", batch).status()).isEqualTo(200); // references: 2nd
    assertThat(http.put("/api/v1/drop-tables/dt-1", dropTable("gold", 3)).status()).isEqualTo(200);
    assertThat(http.delete("/api/v1/drop-tables/Dt-0").status()).isEqualTo(200); // statement

    List<WatchChangesResponse> sent = changes(live, 6);
    List<WatchChangesResponse> held = changes(watch(channel), 6);
    assertThat(sent).extracting(WatchChangesResponse::getRevision).contains(1L, 2L, 3L);
    assertThat(sent).isEqualTo(held);
    assertThat(sent).allMatch(WatchChangesResponse::hasCommittedAt);
    assertThat(pages("commit") - fromCommits).as("pages from the commits").isEqualTo(3);
    assertThat(pages("feed") - fromFeed).as("pages read from the feed").isZero();
  }

  private double pages(String source) {
    return meters.get("veltrix.watch.pages").tag("source", source).counter().count();
  }

  private static BlockingQueue<WatchChangesResponse> watch(ManagedChannel channel) {
    BlockingQueue<WatchChangesResponse> events = new LinkedBlockingQueue<>();
    ConfigServiceGrpc.newStub(channel)
        .withCallCredentials(Tokens.bearer(Tokens.admin()))
        .watchChanges(
            WatchChangesRequest.newBuilder().setAfterRevision(0).build(),
            new StreamObserver<>() {
              @Override
              public void onNext(WatchChangesResponse event) {
                events.add(event);
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
    return events;
  }

  /** The first {@code count} change events (progress events skipped), 10 s at most each. */
  private static List<WatchChangesResponse> changes(
      BlockingQueue<WatchChangesResponse> events, int count) throws InterruptedException {
    List<WatchChangesResponse> changes = new ArrayList<>();
    while (changes.size() < count) {
      WatchChangesResponse event = events.poll(10, TimeUnit.SECONDS);
      assertThat(event).as("change " + (changes.size() + 1) + " of " + count).isNotNull();
      if (event.getType() != WatchChangesResponse.ChangeType.CHANGE_TYPE_PROGRESS) {
        changes.add(event);
      }
    }
    return changes;
  }
}
