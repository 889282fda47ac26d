package com.veltrix.config.grpc;

import static com.veltrix.config.support.Payloads.dropTable;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
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

  @Test
  void aWriteThroughThisPodWakesItsWatchersWithoutWaitingForThePoll() throws Exception {
    TestDatabase.reset(jdbc);
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("localhost", GRPC_PORT).usePlaintext().build();
    BlockingQueue<WatchChangesResponse> events = new LinkedBlockingQueue<>();
    try {
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
      Thread.sleep(500); // the watch is open and has sent its (empty) first page

      new Http(restPort).put("/api/v1/drop-tables/dt-wake", dropTable("gold", 1));

      WatchChangesResponse event = events.poll(10, TimeUnit.SECONDS);
      while (event != null
          && event.getType() == WatchChangesResponse.ChangeType.CHANGE_TYPE_PROGRESS) {
        event = events.poll(10, TimeUnit.SECONDS);
      }
      assertThat(event).as("delivered before the next poll, a minute away").isNotNull();
      assertThat(event.getId()).isEqualTo("dt-wake");
      assertThat(event.getRevision()).isEqualTo(1);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
