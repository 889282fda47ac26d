package com.veltrix.config.faults;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.ListActiveRequest;
import com.veltrix.config.grpc.v1.WatchChangesRequest;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Consumers that stop reading a stream and stay connected: a Flink job under backpressure stops
 * taking its sources' messages, and every one of its watches stalls at once. Their connections are
 * alive (keepalive pings are answered), so only the connection's maximum age (5.5 min) ends them,
 * and until then what the pod holds for each must be small: a service with a 512 MiB heap, as
 * shipped, in a JVM of its own so that its direct memory is not the test's. Before, each stalled
 * watch held ~3.5 MB of direct memory (a page of 1,000 events, each a message of its own in a
 * buffer of at least 4 KiB), and 150 of them (of the 1,000 a pod allows) exhausted it: a consumer
 * that did read was then cancelled ("Server sendMessage() failed with Error"). A watch stalled for
 * a second now also keeps no more than the rest of one revision on the heap, and its consumer, once
 * back, gets every change once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the watches first: their pod's memory fresh
class StalledConsumersTest {

  static final int DOCUMENTS = 20_000; // ~2 MB of events or manifest entries: twice a window
  static final int PER_REVISION = 50; // so that a page of 1,000 events holds 20 revisions
  static final int CONSUMERS = 60;

  /**
   * Direct memory the pod may hold for one stalled consumer: ~0.15 MB measured for a watch, ~3.5 MB
   * before, ~1.3 MB with gRPC's own ready threshold.
   */
  static final long BYTES_PER_STALLED = 768 * 1024;

  ServiceProcess service;

  @BeforeAll
  void start() throws InterruptedException {
    service = new ServiceProcess("stalled", TestDatabase.fresh("stalled"), "0s", Map.of(), "512m");
    ProductionFaultsTest.awaitReadiness(service, "UP", 90_000);
    for (int batch = 0; batch < DOCUMENTS / PER_REVISION; batch++) {
      StringBuilder writes = new StringBuilder();
      for (int i = 0; i < PER_REVISION; i++) {
        writes
            .append(i == 0 ? "" : ",")
            .append(
                "{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-%d-%d\",\"payload\":%s}"
                    .formatted(batch, i, dropTable("item-" + i, i + 1)));
      }
      var answer = service.rest.post("/api/v1/batches", "{\"writes\":[" + writes + "]}");
      assertThat(answer.status()).as(answer.body()).isEqualTo(200);
    }
  }

  @AfterAll
  void stop() {
    service.close();
  }

  @Test
  @Order(1)
  void stalledWatchesHoldLittleOfThePodsMemoryAndResumeWithEveryChange() throws Exception {
    long head = service.rest.get("/api/v1/revision").json().get("revision").asLong();
    // one more stalled watch, whose consumer comes back once the others have settled
    List<WatchChangesResponse> received = Collections.synchronizedList(new ArrayList<>());
    CompletableFuture<Status> atHead = new CompletableFuture<>();
    ClientCall<WatchChangesRequest, WatchChangesResponse> resumed =
        service.channel.newCall(
            ConfigServiceGrpc.getWatchChangesMethod(),
            CallOptions.DEFAULT.withCallCredentials(Tokens.bearer(Tokens.admin())));
    resumed.start(
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(WatchChangesResponse message) {
            if (message.getType() != WatchChangesResponse.ChangeType.CHANGE_TYPE_PROGRESS) {
              received.add(message);
            } else if (message.getRevision() >= head) {
              atHead.complete(Status.OK);
            }
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            atHead.complete(status);
          }
        },
        new Metadata());
    resumed.sendMessage(WatchChangesRequest.newBuilder().setAfterRevision(0).build());
    resumed.halfClose();

    assertStalledConsumersHoldLittle(
        ConfigServiceGrpc.getWatchChangesMethod(),
        WatchChangesRequest.newBuilder().setAfterRevision(0).build(),
        () -> {
          // a second without taking anything: each keeps the rest of one revision, not a page
          long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
          double held = heldEvents();
          while (held > (CONSUMERS + 1) * PER_REVISION && System.nanoTime() < until) {
            Thread.sleep(200);
            held = heldEvents();
          }
          System.out.printf(
              "STALLED %d watches hold %.0f events read for them%n", CONSUMERS + 1, held);
          assertThat(held)
              .as("events held for stalled watches, a revision is %d", PER_REVISION)
              .isLessThanOrEqualTo((CONSUMERS + 1) * PER_REVISION);

          resumed.request(Integer.MAX_VALUE);
          assertThat(atHead.get(30, TimeUnit.SECONDS)).isEqualTo(Status.OK);
          assertThat(received).hasSize(DOCUMENTS);
          assertThat(received.stream().map(e -> e.getRevision() + "/" + e.getId()).distinct())
              .as("every change once")
              .hasSize(DOCUMENTS);
          assertThat(received.stream().map(WatchChangesResponse::getRevision).toList())
              .as("in revision order")
              .isSorted();
        });
  }

  @Test
  @Order(2)
  void stalledManifestsHoldLittleOfThePodsMemory() throws Exception {
    assertStalledConsumersHoldLittle(
        ConfigServiceGrpc.getListActiveMethod(), ListActiveRequest.getDefaultInstance());
  }

  /**
   * Opens {@link #CONSUMERS} calls of {@code method}, each on a connection of its own, that never
   * ask for a message; once the pod has sent all that their windows take, its direct memory has
   * grown by less than {@link #BYTES_PER_STALLED} for each beyond the first third, and none was
   * ended.
   */
  <Q, A> void assertStalledConsumersHoldLittle(MethodDescriptor<Q, A> method, Q request)
      throws Exception {
    assertStalledConsumersHoldLittle(method, request, () -> {});
  }

  /** As above, then {@code whileStalled} before the consumers go. */
  <Q, A> void assertStalledConsumersHoldLittle(
      MethodDescriptor<Q, A> method, Q request, Check whileStalled) throws Exception {
    // the growth from a third of them to all of them: the first consumers also take the pod's
    // memory pools their first chunks, which a machine with more cores has more of
    int first = CONSUMERS / 3;
    double atFirst = Double.NaN;
    List<ManagedChannel> channels = new ArrayList<>();
    List<Status> ended = Collections.synchronizedList(new ArrayList<>());
    try {
      for (int i = 0; i < CONSUMERS; i++) {
        if (i == first) {
          atFirst = settledDirectMemory();
        }
        ManagedChannel channel =
            ManagedChannelBuilder.forAddress("localhost", service.grpcPort).usePlaintext().build();
        channels.add(channel);
        ClientCall<Q, A> call = startCall(channel, method, ended);
        call.sendMessage(request);
        call.halfClose(); // and never call.request(): a consumer that takes nothing
        // a few at a time: sixty 1,000-entry reads at once wait past the 250 ms budget on two
        // cores, and the pod refuses some (UNAVAILABLE) as it should
        Thread.sleep(50);
      }
      double stalled = settledDirectMemory();
      double perConsumer = (stalled - atFirst) / (CONSUMERS - first);
      System.out.printf(
          "STALLED %d then %d %s consumers: the pod's direct memory %.1f MB -> %.1f MB,"
              + " %.0f KB each%n",
          first,
          CONSUMERS,
          method.getBareMethodName(),
          atFirst / 1e6,
          stalled / 1e6,
          perConsumer / 1e3);
      assertThat(ended).as("stalled calls ended").isEmpty();
      assertThat(perConsumer)
          .as("direct memory held per stalled consumer")
          .isLessThan(BYTES_PER_STALLED);
      whileStalled.run();
    } finally {
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  /** An administrator's call of {@code method}, started; how it ended goes to {@code ended}. */
  static <Q, A> ClientCall<Q, A> startCall(
      ManagedChannel channel, MethodDescriptor<Q, A> method, List<Status> ended) {
    ClientCall<Q, A> call =
        channel.newCall(
            method, CallOptions.DEFAULT.withCallCredentials(Tokens.bearer(Tokens.admin())));
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            ended.add(status);
          }
        },
        new Metadata());
    return call;
  }

  /** The pod's direct memory once it has stopped growing for two seconds (at most 60 s). */
  double settledDirectMemory() throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    double last = -1;
    double now = directMemory();
    while (now != last && System.nanoTime() < until) {
      last = now;
      Thread.sleep(2000);
      now = directMemory();
    }
    return now;
  }

  interface Check {
    void run() throws Exception;
  }

  double heldEvents() {
    return service.metric("veltrix_watch_events_held");
  }

  double directMemory() {
    return service.metric("jvm_buffer_memory_used_bytes", "id=\"direct\"");
  }
}
