package com.veltrix.config.faults;

import static com.veltrix.config.support.Payloads.dropTable;
import static com.veltrix.config.support.Payloads.largeDropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.grpc.ExampleConsumer;
import com.veltrix.config.grpc.ExampleConsumerTest;
import com.veltrix.config.grpc.v1.ConfigKind;
import com.veltrix.config.grpc.v1.ConfigRef;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.grpc.v1.GetConfigsResponse;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoublePredicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A peer of a watch that goes without a word (no FIN, no reset: its node lost, a partition): the
 * other side must find out by itself. Kubernetes kills a pod's process with SIGKILL and its kernel
 * still resets the connections; a lost node or zone, or a partition, leaves them silent. The
 * service's side is gRPC's keepalive (a ping on a connection from which nothing came for {@code
 * keep-alive-time}, the connection closed when no answer came within {@code keep-alive-timeout});
 * shortened here to 10 s (the least grpc-java allows: {@code KeepAliveManager} raises any shorter
 * time to it) and 1 s; the shipped values are 60 s and 20 s. The consumer's side is the bound on a
 * watch's silence that {@link ExampleConsumer} keeps: an idle watch gets a PROGRESS event every
 * {@code watch-progress-interval}, so nothing for several of them means nobody is there. The bounds
 * are the feature.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VanishedPeersTest {

  ServiceUnderTest service;
  final JdbcClient jdbc = JdbcClient.create(TestDatabase.unpooled());

  @BeforeAll
  void start() {
    // before the service starts (its watches must never see the revision go back), unless it is
    // the first to use the database and migrates it now
    if (jdbc.sql("SELECT to_regclass('revision_counter') IS NOT NULL")
        .query(Boolean.class)
        .single()) {
      TestDatabase.reset(jdbc);
    }
    service =
        new ServiceUnderTest(
            "vanished",
            TestDatabase.jdbcUrl(),
            "0s",
            Map.of(
                "grpc.server.keep-alive-time", "10s",
                "grpc.server.keep-alive-timeout", "1s",
                "veltrix.grpc.watch-progress-interval", "300ms",
                "veltrix.grpc.answer-deadline", "3s"));
  }

  @AfterAll
  void stop() {
    service.close();
  }

  long revision() {
    return service.rest.get("/api/v1/revision").json().get("revision").asLong();
  }

  /** {@code veltrix_watches_open}, as Prometheus scrapes it. */
  double openWatches() {
    return gauge("veltrix_watches_open");
  }

  /** Waits until {@code veltrix_capacity_heavy_reserved_bytes} passes {@code test}, or until. */
  void awaitReserved(DoublePredicate test, long untilNanos) throws InterruptedException {
    while (!test.test(gauge("veltrix_capacity_heavy_reserved_bytes"))
        && System.nanoTime() < untilNanos) {
      Thread.sleep(20);
    }
  }

  double gauge(String name) {
    double value = service.metric(name);
    if (Double.isNaN(value)) {
      throw new AssertionError("no " + name + " in /actuator/prometheus");
    }
    return value;
  }

  /**
   * The consumer's first connection goes through a network that falls silent while it watches; its
   * next connections go straight to the service, as to another pod. It gives the silent watch up
   * after 1 s without a message (the service sends PROGRESS every 300 ms here), resumes from the
   * last revision it had completely, and ends with the database's state.
   */
  @Test
  void aConsumerWhoseServerFellSilentResumesAndMissesNothing() throws Exception {
    try (FaultProxy network = new FaultProxy(service.grpcPort)) {
      AtomicInteger connections = new AtomicInteger();
      ExampleConsumer consumer =
          new ExampleConsumer(
              () ->
                  ManagedChannelBuilder.forAddress(
                          "localhost",
                          connections.getAndIncrement() == 0 ? network.port() : service.grpcPort)
                      .usePlaintext()
                      .build(),
              Duration.ofSeconds(1));
      for (int i = 0; i < 20; i++) {
        service.rest.put("/api/v1/drop-tables/silent-" + i, dropTable("before", i + 1));
      }
      try (ExampleConsumer.Running running = consumer.start()) {
        ExampleConsumerTest.awaitRevision(consumer, revision());

        network.blackhole(); // the pod it watches is lost: no FIN, no reset, no answer
        long silentSince = System.nanoTime();
        for (int i = 0; i < 20; i++) {
          service.rest.put("/api/v1/drop-tables/silent-" + i, dropTable("after", i + 1));
        }
        service.rest.delete("/api/v1/drop-tables/silent-0");
        ExampleConsumerTest.awaitRevision(consumer, revision());
        long caughtUpAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - silentSince);
        System.out.println(
            "VANISHED server: the consumer caught up after " + caughtUpAfter + " ms");

        assertThat(consumer.silences()).as("watches given up for their silence").isEqualTo(1);
        assertThat(consumer.connections()).isEqualTo(2);
        assertThat(consumer.view()).isEqualTo(ExampleConsumerTest.activeInDatabase(jdbc));
      }
    }
  }

  /**
   * Two REST clients stop taking bytes in the middle of their calls: one stops reading a page of
   * ~10 MB, the other stops sending its batch halfway. Either is what the service sees of a client
   * (or of the load balancer's node in front of it) gone without a word: its kernel takes nothing
   * more. Each held a request thread and the memory its call reserved ({@code veltrix.capacity})
   * until Tomcat gave up on the socket, after 60 s by default: two stalled 1,000-item pages on a
   * 512 MiB pod kept every other heavy call out (429) for that minute. {@code
   * server.tomcat.connection-timeout} (10 s, as shipped: not shortened here) bounds every wait for
   * the client's next byte, or for its room for ours.
   */
  @Test
  void restClientsThatStopTakingBytesReleaseTheirMemoryWithinTheConnectionTimeout()
      throws Exception {
    for (int i = 0; i < 200; i++) { // ~45 KB each: a page of them is far more than socket buffers
      service.rest.put("/api/v1/drop-tables/stalled-" + i, largeDropTable());
    }
    long revision = revision();
    int port = URI.create(service.rest.base()).getPort();
    byte[] batch =
        ("{\"writes\": ["
                + IntStream.range(0, 50)
                    .mapToObj(
                        i ->
                            "{\"op\": \"upsert\", \"kind\": \"DROP_TABLE\", \"id\": \"never-%d\", \"payload\": %s}"
                                .formatted(i, largeDropTable()))
                    .collect(Collectors.joining(","))
                + "]}")
            .getBytes(StandardCharsets.UTF_8);
    try (Socket reader = new Socket();
        Socket sender = new Socket()) {
      reader.setReceiveBufferSize(4096); // before connecting: the window it offers stays small
      reader.connect(new InetSocketAddress("localhost", port));
      reader
          .getOutputStream()
          .write(
              ("GET /api/v1/drop-tables?limit=1000 HTTP/1.1\r\nHost: localhost\r\n"
                      + "Authorization: Bearer "
                      + Tokens.admin()
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      sender.connect(new InetSocketAddress("localhost", port));
      OutputStream out = sender.getOutputStream();
      out.write(
          ("POST /api/v1/batches HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                  + Tokens.admin()
                  + "\r\nContent-Type: application/json\r\nContent-Length: "
                  + batch.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(batch, 0, batch.length / 2);
      out.flush();
      long stalledSince = System.nanoTime();
      // the page reserves 1,000 × 64 KiB, the batch four times its body
      double reserved = 1000 * 64 * 1024 + 4.0 * batch.length;
      awaitReserved(r -> r >= reserved, stalledSince + TimeUnit.SECONDS.toNanos(5));
      assertThat(gauge("veltrix_capacity_heavy_reserved_bytes"))
          .as("both calls hold their reservations")
          .isGreaterThanOrEqualTo(reserved);

      awaitReserved(r -> r == 0, stalledSince + TimeUnit.SECONDS.toNanos(20));
      long releasedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stalledSince);
      System.out.println("VANISHED REST clients' memory released after " + releasedAfter + " ms");
      assertThat(gauge("veltrix_capacity_heavy_reserved_bytes"))
          .as("memory reserved %d ms after the clients stopped", releasedAfter)
          .isZero();
      assertThat(releasedAfter).as("ms until both reservations ended").isLessThan(15_000);

      String answer = answerTo(sender);
      System.out.println("VANISHED answer: " + answer);
      assertThat(answer).startsWith("HTTP/1.1 408 ").contains("application/problem+json");
      assertThat(answer).contains("no byte of the request body came for 10 s");
    }
    assertThat(revision()).as("the half-sent batch wrote nothing").isEqualTo(revision);
    for (int i = 0; i < 200; i++) { // the other tests' consumers load what is active
      assertThat(service.rest.delete("/api/v1/drop-tables/stalled-" + i).status()).isEqualTo(200);
    }
  }

  /**
   * A consumer that stops taking a GetConfigs answer while its transport stays alive (it answers
   * keepalive pings, so keepalive never ends it; a stuck consumer thread, a consumer that never
   * asks for the message): its answer, 4.5 MB here and up to 64 MiB, waits in the pod's memory. The
   * reservation for it lasts until the call ends, and the call ends when the answer has waited for
   * its consumer for {@code veltrix.grpc.answer-deadline} (30 s; 3 s here). Before, the reservation
   * ended as the answer was handed to the transport and the answer stayed until the connection's
   * maximum age: nine such consumers exhausted a 512 MiB pod's direct memory, and every large
   * answer after them failed.
   */
  @Test
  void aConsumerThatStopsTakingAGetConfigsAnswerHoldsItsMemoryOnlyUntilTheAnswerDeadline()
      throws Exception {
    GetConfigsRequest.Builder refs = GetConfigsRequest.newBuilder();
    for (int i = 0; i < 100; i++) { // ~45 KB each: far more than HTTP/2's 1 MiB window
      service.rest.put("/api/v1/drop-tables/unread-" + i, largeDropTable());
      refs.addRefs(
          ConfigRef.newBuilder().setKind(ConfigKind.CONFIG_KIND_DROP_TABLE).setId("unread-" + i));
    }
    ManagedChannel consumer =
        ManagedChannelBuilder.forAddress("localhost", service.grpcPort)
            .usePlaintext()
            .maxInboundMessageSize(64 << 20)
            .build();
    try {
      ClientCall<GetConfigsRequest, GetConfigsResponse> call =
          consumer.newCall(
              ConfigServiceGrpc.getGetConfigsMethod(),
              CallOptions.DEFAULT.withCallCredentials(Tokens.bearer(Tokens.admin())));
      CompletableFuture<Status> closed = new CompletableFuture<>();
      call.start(
          new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
              closed.complete(status);
            }
          },
          new Metadata());
      call.sendMessage(refs.build()); // no deadline, and no call.request(): it takes no message
      call.halfClose();
      long stalledSince = System.nanoTime();
      double reserved = 100 * 64 * 1024;
      awaitReserved(r -> r >= reserved, stalledSince + TimeUnit.SECONDS.toNanos(2));
      assertThat(gauge("veltrix_capacity_heavy_reserved_bytes"))
          .as("the answer waiting for its consumer holds its reservation")
          .isGreaterThanOrEqualTo(reserved);
      Thread.sleep(1000); // not only while it is serialised (before, it ended then)
      assertThat(gauge("veltrix_capacity_heavy_reserved_bytes"))
          .as("the answer waiting for its consumer a second later")
          .isGreaterThanOrEqualTo(reserved);

      awaitReserved(r -> r == 0, stalledSince + TimeUnit.SECONDS.toNanos(15));
      long endedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stalledSince);
      assertThat(gauge("veltrix_capacity_heavy_reserved_bytes"))
          .as("reserved %d ms after the consumer stopped", endedAfter)
          .isZero();
      // the server reset the stream: what the consumer takes now is not the whole answer (gRPC
      // tells a client that takes no message how its call ended only when it asks for one)
      call.request(1);
      Status status = closed.get(5, TimeUnit.SECONDS);
      System.out.println("VANISHED unread GetConfigs ended after " + endedAfter + " ms: " + status);
      assertThat(status.getCode()).isIn(Status.Code.CANCELLED, Status.Code.DEADLINE_EXCEEDED);
      // a consumer that reads, also without a deadline, is answered as before
      assertThat(
              ConfigServiceGrpc.newBlockingStub(consumer)
                  .withCallCredentials(Tokens.bearer(Tokens.admin()))
                  .getConfigs(refs.build())
                  .getConfigsCount())
          .isEqualTo(100);
    } finally {
      consumer.shutdownNow();
    }
    for (int i = 0; i < 100; i++) { // the other tests' consumers load what is active
      assertThat(service.rest.delete("/api/v1/drop-tables/unread-" + i).status()).isEqualTo(200);
    }
  }

  /** What came back on {@code socket} before it closed or fell silent for a second. */
  static String answerTo(Socket socket) throws IOException {
    socket.setSoTimeout(1_000);
    ByteArrayOutputStream answer = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try {
      for (int n; (n = socket.getInputStream().read(buffer)) >= 0; ) {
        answer.write(buffer, 0, n);
      }
    } catch (SocketTimeoutException | SocketException e) {
      // silent (a connection kept alive) or reset after the answer: it is all there is
    }
    return answer.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aWatcherThatVanishedWithoutAWordNoLongerHoldsItsWatch() throws Exception {
    try (FaultProxy network = new FaultProxy(service.grpcPort)) {
      ManagedChannel consumer =
          ManagedChannelBuilder.forAddress("localhost", network.port()).usePlaintext().build();
      try {
        CompletableFuture<Status> watch = GracefulShutdownTest.watch(consumer, 0, revision());
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (openWatches() < 1 && System.nanoTime() < until) {
          Thread.sleep(20);
        }
        assertThat(openWatches()).as("the watch is open on the service").isEqualTo(1);

        network.blackhole(); // the consumer's node is gone: nothing comes back, nothing is refused
        long silentSince = System.nanoTime();
        // 10 s without a byte from the consumer, a ping, 1 s without its answer: about 11 s;
        // without keepalive the connection's maximum age (5 min) would end it
        until = silentSince + TimeUnit.SECONDS.toNanos(20);
        while (openWatches() > 0 && System.nanoTime() < until) {
          Thread.sleep(50);
        }
        long freedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - silentSince);
        System.out.println("VANISHED watcher's watch freed after " + freedAfter + " ms");
        assertThat(openWatches())
            .as("watches open %d ms after their consumer went silent", freedAfter)
            .isZero();
        assertThat(freedAfter).as("ms until the silent watcher's watch ended").isLessThan(15_000);
        assertThat(watch).as("the vanished consumer heard nothing").isNotDone();
      } finally {
        consumer.shutdownNow();
      }
    }
  }
}
