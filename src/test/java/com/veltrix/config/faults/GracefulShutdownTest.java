package com.veltrix.config.faults;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.WatchChangesRequest;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Shutdown as Kubernetes does it: readiness goes DOWN first, an in-flight REST call finishes, open
 * watches end with UNAVAILABLE (so Flink clients resume elsewhere at once) and the process does not
 * wait out the 30 s gRPC grace for them. The bounds are the feature.
 */
class GracefulShutdownTest {

  /** Hands out the body in 64 KiB pieces, 100 ms apart. */
  static InputStream slowly(String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return new InputStream() {
      int position;
      int sinceSleep;

      @Override
      public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] buffer, int offset, int length) {
        if (position >= bytes.length) {
          return -1;
        }
        if (sinceSleep >= 64 * 1024) {
          sinceSleep = 0;
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        int n = Math.min(Math.min(length, bytes.length - position), 64 * 1024 - sinceSleep);
        System.arraycopy(bytes, position, buffer, offset, n);
        position += n;
        sinceSleep += n;
        return n;
      }
    };
  }

  /**
   * Opens a watch after revision {@code after} (the current one: leftover data of other tests must
   * not turn it into a backlog replay) with a deadline of {@code seconds} (none when 0); with a
   * deadline, the first event completes the future with OK (the watch was served).
   */
  static CompletableFuture<Status> watch(ManagedChannel channel, int seconds, long after) {
    CompletableFuture<Status> end = new CompletableFuture<>();
    ConfigServiceGrpc.ConfigServiceStub stub =
        ConfigServiceGrpc.newStub(channel).withCallCredentials(Tokens.bearer(Tokens.admin()));
    if (seconds > 0) {
      stub = stub.withDeadlineAfter(seconds, TimeUnit.SECONDS);
    }
    boolean endOnFirstEvent = seconds > 0;
    stub.watchChanges(
        WatchChangesRequest.newBuilder().setAfterRevision(after).build(),
        new StreamObserver<>() {
          public void onNext(WatchChangesResponse value) {
            // without a deadline the watch must run until it is ended: an event of the in-flight
            // batch, committed during the shutdown, once completed it OK before that (CI)
            if (endOnFirstEvent) {
              end.complete(Status.OK); // served: an event came
            }
          }

          public void onError(Throwable t) {
            end.complete(Status.fromThrowable(t));
          }

          public void onCompleted() {
            end.complete(Status.OK);
          }
        });
    return end;
  }

  @Test
  void shutdownEndsWatchesFinishesInFlightCallsAndDoesNotHang() throws Exception {
    ServiceUnderTest service = new ServiceUnderTest(TestDatabase.jdbcUrl(), "0s");
    long current = service.rest.get("/api/v1/revision").json().get("revision").asLong();
    // a channel of the test's own: ServiceUnderTest.close() shuts service.channel down first, and a
    // watch on it then ended "Channel shutdownNow invoked" before the pod had begun to stop
    ManagedChannel consumer =
        ManagedChannelBuilder.forAddress("localhost", service.grpcPort).usePlaintext().build();
    CompletableFuture<Status> watchEnd = watch(consumer, 0, current);
    StringBuilder batch = new StringBuilder("{\"writes\":[");
    for (int i = 0; i < 1000; i++) {
      batch
          .append(i == 0 ? "" : ",")
          .append("{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"shutdown-")
          .append(i)
          .append("\",\"payload\":")
          .append(dropTable("item-" + i, 1))
          .append("}");
    }
    batch.append("]}");
    Thread.sleep(300); // the watch is open

    // the body trickles in over about a second, so the call is surely in flight when shutdown
    // begins
    CompletableFuture<HttpResponse<String>> inFlight =
        HttpClient.newHttpClient()
            .sendAsync(
                HttpRequest.newBuilder(URI.create(service.rest.base() + "/api/v1/batches"))
                    .header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + Tokens.admin())
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> slowly(batch.toString())))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    Thread.sleep(300);
    assertThat(watchEnd).as("a watch open when the shutdown begins").isNotDone();
    long closing = System.nanoTime();
    CompletableFuture<Void> closed = CompletableFuture.runAsync(service::close);

    Status ended = watchEnd.get(5, TimeUnit.SECONDS);
    assertThat(ended.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(ended.getDescription()).contains("server shutting down");
    // the consumer resumes at once: this pod no longer accepts it, so it must go elsewhere
    ManagedChannel again =
        ManagedChannelBuilder.forAddress("localhost", service.grpcPort).usePlaintext().build();
    try {
      // refused (the port is closed), or never answered when the connection raced the listener's
      // asynchronous close: either way the dying pod does not serve it, and the client goes on
      Status resumed = watch(again, 2, current).get(5, TimeUnit.SECONDS);
      assertThat(resumed.getCode())
          .as("a watch opened after shutdown began is not served by the dying pod")
          .isIn(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED);
    } finally {
      again.shutdownNow();
    }
    closed.get(20, TimeUnit.SECONDS);
    consumer.shutdownNow();
    long closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closing);
    HttpResponse<String> response = inFlight.get(5, TimeUnit.SECONDS);
    System.out.printf(
        "SHUTDOWN closed in %d ms; in-flight batch answered %d%n",
        closeMillis, response.statusCode());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(closeMillis).as("no wait for the 30 s gRPC grace").isLessThan(10_000);
  }

  /**
   * A watch whose first page is still being read when the shutdown begins: it was not among the
   * watches the shutdown ended, and once registered it held the gRPC drain for the whole 30 s grace
   * (seen once in CI). The database is stalled so that the page is read across the shutdown's
   * start.
   */
  @Test
  void aWatchOpeningAsTheShutdownBeginsIsEndedToo() throws Exception {
    FaultProxy proxy = new FaultProxy(TestDatabase.postgres().getPort());
    ServiceUnderTest service =
        new ServiceUnderTest(
            "in-process",
            "jdbc:postgresql://localhost:" + proxy.port() + "/postgres?user=postgres",
            "0s",
            Map.of("veltrix.resilience.request-budget", "10s")); // the stall is no failure
    ManagedChannel consumer =
        ManagedChannelBuilder.forAddress("localhost", service.grpcPort).usePlaintext().build();
    try {
      long current = service.rest.get("/api/v1/revision").json().get("revision").asLong();
      watch(consumer, 1, current).get(5, TimeUnit.SECONDS); // the call path is warm
      proxy.stall(2_000);
      CompletableFuture<Status> watchEnd = watch(consumer, 0, current);
      Thread.sleep(500); // the watch is reading its first page
      assertThat(watchEnd).as("a watch still opening when the shutdown begins").isNotDone();
      CompletableFuture<Void> closed = CompletableFuture.runAsync(service::close);

      Status ended = watchEnd.get(6, TimeUnit.SECONDS);
      assertThat(ended.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(ended.getDescription()).contains("server shutting down");
      closed.get(20, TimeUnit.SECONDS);
    } finally {
      consumer.shutdownNow();
      service.close(); // again, if an assertion came first: closing twice does nothing
      proxy.close();
    }
  }
}
