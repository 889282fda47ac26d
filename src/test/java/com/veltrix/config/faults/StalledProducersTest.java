package com.veltrix.config.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.grpc.v1.ConfigKind;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.ConfigWrite;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.grpc.v1.PutConfigsRequest;
import com.veltrix.config.grpc.v1.PutConfigsResponse;
import com.veltrix.config.grpc.v1.WriteOp;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.KnownLength;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Producers that stop sending in the middle of a request message while their connection lives: a
 * zone cut off mid-upload (keepalive finds it after up to 80 s), a producer stopped between two
 * writes of its socket. gRPC's transport keeps every byte of a message that has begun to arrive,
 * about twice its size in direct memory, and nothing in gRPC ends it. Before, 20 PutConfigs stalled
 * 7 MB into 8 MB batches held 276 MB of a 512 MiB pod's direct memory, and at 40 the transport
 * failed to allocate and closed connections (GOAWAY, INTERNAL_ERROR) with every call on them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StalledProducersTest {

  static final int PRODUCERS = 20;
  static final int LENGTH = 8_000_000;
  static final int SENT = 7_000_000;

  /** The service's default {@code veltrix.grpc.arriving-request-memory}. */
  static final long CAP = 64L * 1024 * 1024;

  ServiceProcess service;

  @BeforeAll
  void start() throws InterruptedException {
    service =
        new ServiceProcess("producers", TestDatabase.fresh("producers"), "0s", Map.of(), "512m");
    ProductionFaultsTest.awaitReadiness(service, "UP", 90_000);
  }

  @AfterAll
  void stop() {
    service.close();
  }

  @Test
  void producersStalledMidMessageHoldABoundedShareOfThePodAndAreEndedOnceIdle() throws Exception {
    List<ManagedChannel> channels = new ArrayList<>();
    List<Status> ended = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch release = new CountDownLatch(1);
    long before = System.nanoTime();
    try {
      for (int i = 0; i < PRODUCERS; i++) {
        Producer producer = open(ended);
        channels.add(producer.channel());
        sendAndStall(producer, release);
      }
      double direct = directMemory();
      System.out.printf(
          "PRODUCERS %d stalled 7 MB into 8 MB: the pod's direct memory %.1f MB, %.1f MB"
              + " counted as arriving, %d refused, after %d ms%n",
          PRODUCERS,
          direct / 1e6,
          service.metric("veltrix_grpc_requests_arriving_bytes") / 1e6,
          ended.size(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before));
      assertThat(direct).as("direct memory held for stalled requests").isLessThan(3.0 * CAP);
      List<Status> refused =
          ended.stream().filter(s -> s.getCode() == Status.Code.RESOURCE_EXHAUSTED).toList();
      assertThat(refused)
          .as("producers refused once the cap is taken: %s", ended)
          .isNotEmpty()
          .allSatisfy(
              s -> assertThat(s.getDescription()).contains("veltrix.grpc.arriving-request-memory"));

      // veltrix.grpc.request-idle-timeout (10 s) after their last byte, each call is ended
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(25);
      while (ended.size() < PRODUCERS && System.nanoTime() < until) {
        Thread.sleep(200);
      }
      System.out.printf(
          "PRODUCERS all ended after %d ms: %s%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before), ended);
      assertThat(ended).as("stalled producers' calls ended").hasSize(PRODUCERS);
      assertThat(ended)
          .extracting(Status::getCode)
          .containsOnly(Status.Code.RESOURCE_EXHAUSTED, Status.Code.CANCELLED);
      assertThat(service.metric("veltrix_grpc_requests_arriving_bytes")).isZero();

      // and a whole batch of the same size is taken
      PutConfigsRequest.Builder batch = PutConfigsRequest.newBuilder();
      String entry =
          "{\"itemId\": \"item-%d\", \"weight\": 1, \"minQuantity\": 1, \"maxQuantity\": 3}";
      StringBuilder entries = new StringBuilder();
      for (int e = 0; e < 100; e++) {
        entries.append(e == 0 ? "" : ",").append(entry.formatted(e));
      }
      String payload = "{\"rolls\": 2, \"entries\": [" + entries + "]}";
      for (int i = 0; i < 1_000; i++) {
        batch.addWrites(
            ConfigWrite.newBuilder()
                .setOp(WriteOp.WRITE_OP_UPSERT)
                .setKind(ConfigKind.CONFIG_KIND_DROP_TABLE)
                .setId("whole-" + i)
                .setPayloadJson(payload.replace("\"rolls\": 2", "\"rolls\": " + (1 + i % 100))));
      }
      assertThat(batch.build().getSerializedSize()).isGreaterThan(SENT);
      ManagedChannel whole =
          ManagedChannelBuilder.forAddress("localhost", service.grpcPort)
              .usePlaintext()
              .maxInboundMessageSize(64 << 20) // the answer carries the documents
              .build();
      channels.add(whole);
      PutConfigsResponse written =
          ConfigServiceGrpc.newBlockingStub(whole)
              .withCallCredentials(Tokens.bearer(Tokens.admin()))
              .withDeadlineAfter(60, TimeUnit.SECONDS)
              .putConfigs(batch.build());
      assertThat(written.getResultsCount()).isEqualTo(1_000);
    } finally {
      release.countDown();
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  /**
   * Producers whose calls all began before any of their bytes came, so that none was refused as it
   * started: once their bytes reach the cap, the message that would go beyond it is refused inside
   * gRPC's deframer, RESOURCE_EXHAUSTED with the cap named (ended through its context, as the code
   * first did, it got CANCELLED without a word of why).
   */
  @Test
  void producersAdmittedTogetherAreRefusedOnceTheirBytesReachTheCap() throws Exception {
    List<Producer> producers = new ArrayList<>();
    List<Status> ended = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch release = new CountDownLatch(1);
    try {
      for (int i = 0; i < 12; i++) {
        producers.add(open(ended));
      }
      Thread.sleep(500); // every call started, with nothing arriving yet: all admitted
      assertThat(ended).as("refused as they started").isEmpty();
      for (Producer producer : producers) {
        sendAndStall(producer, release);
      }
      double direct = directMemory();
      double arriving = service.metric("veltrix_grpc_requests_arriving_bytes");
      System.out.printf(
          "PRODUCERS 12 admitted together: the pod's direct memory %.1f MB, %.1f MB counted as"
              + " arriving: %s%n",
          direct / 1e6, arriving / 1e6, ended);
      assertThat(ended)
          .as("refused once their bytes reached the cap")
          .isNotEmpty()
          .allSatisfy(
              s -> {
                assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(s.getDescription())
                    .contains("would hold more than 64 MB (veltrix.grpc.arriving-request-memory)");
              });
      assertThat(arriving).isLessThanOrEqualTo(CAP);
      assertThat(direct).as("direct memory held for stalled requests").isLessThan(3.0 * CAP);
    } finally {
      release.countDown();
      producers.forEach(p -> p.channel().shutdownNow());
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (service.metric("veltrix_grpc_requests_arriving_bytes") > 0
          && System.nanoTime() < until) {
        Thread.sleep(100);
      }
    }
  }

  /** A PutConfigs call, started, on a connection of its own. */
  record Producer(ManagedChannel channel, ClientCall<InputStream, PutConfigsResponse> call) {}

  Producer open(List<Status> ended) throws InterruptedException {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("localhost", service.grpcPort).usePlaintext().build();
    channel.getState(true);
    for (int w = 0; w < 250 && channel.getState(false) != ConnectivityState.READY; w++) {
      Thread.sleep(20);
    }
    MethodDescriptor<InputStream, PutConfigsResponse> put =
        ConfigServiceGrpc.getPutConfigsMethod().toBuilder(
                new Passing(), ProtoUtils.marshaller(PutConfigsResponse.getDefaultInstance()))
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .build();
    return new Producer(channel, StalledConsumersTest.startCall(channel, put, ended));
  }

  /**
   * Sends 7 MB of an 8 MB message and then nothing until {@code release}. grpc-java's client sends
   * a unary message only once it is whole, so the call is declared streaming (the server cannot
   * tell; its headers go at once) and a second call on the connection flushes what it has queued; a
   * grpc-go client sends its frames as it writes them.
   */
  void sendAndStall(Producer producer, CountDownLatch release) throws InterruptedException {
    Thread sender =
        new Thread(
            () -> {
              try {
                producer.call().sendMessage(new Stalling(release));
              } catch (RuntimeException e) {
                // the test is over
              }
            });
    sender.setDaemon(true);
    sender.start();
    Thread.sleep(100);
    try {
      ConfigServiceGrpc.newBlockingStub(producer.channel())
          .withCallCredentials(Tokens.bearer(Tokens.admin()))
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .getConfigs(GetConfigsRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      // whatever it answers, its request has flushed the stalled one's frames
    }
  }

  /** 7 MB of an 8 MB message, then a wait until the test ends. */
  static final class Stalling extends InputStream implements KnownLength {
    private final CountDownLatch release;
    private int left = LENGTH;

    Stalling(CountDownLatch release) {
      this.release = release;
    }

    @Override
    public int available() {
      return left;
    }

    @Override
    public int read() {
      throw new UnsupportedOperationException();
    }

    @Override
    public int read(byte[] into, int offset, int length) throws IOException {
      if (LENGTH - left >= SENT) {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new IOException("the test is over");
      }
      int n = Math.min(length, SENT - (LENGTH - left));
      Arrays.fill(into, offset, offset + n, (byte) 0);
      left -= n;
      return n;
    }
  }

  /** A request given as its serialized bytes. */
  static final class Passing implements MethodDescriptor.Marshaller<InputStream> {
    @Override
    public InputStream stream(InputStream value) {
      return value;
    }

    @Override
    public InputStream parse(InputStream stream) {
      return stream;
    }
  }

  double directMemory() {
    return service.metric("jvm_buffer_memory_used_bytes", "id=\"direct\"");
  }
}
