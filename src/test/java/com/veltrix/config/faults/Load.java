package com.veltrix.config.faults;

import static com.veltrix.config.support.Payloads.dropTable;

import com.veltrix.config.grpc.v1.ConfigKind;
import com.veltrix.config.grpc.v1.ConfigRef;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.ConfigWrite;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.grpc.v1.PutConfigsRequest;
import com.veltrix.config.grpc.v1.PutConfigsResponse;
import com.veltrix.config.grpc.v1.WriteOp;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.Tokens;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Steady mixed load on one service: readers and writers over REST and gRPC on a few documents.
 * Records every call (latency, outcome), every acknowledged write, and every stale read: a read
 * that returned a version older than one acknowledged before the read began.
 */
final class Load {

  static final int DOCUMENTS = 8;
  private static final io.grpc.CallCredentials TOKEN = Tokens.bearer(Tokens.admin());

  /** One call as the client saw it. */
  record Call(
      String what,
      long startNanos,
      long latencyNanos,
      boolean ok,
      String failure,
      boolean fastFailure,
      String detail) {}

  /** An acknowledged write: its unique item id, the document and the version it got. */
  record Ack(String itemId, String doc, long version, String contentHash) {}

  final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
  final List<Ack> acks = Collections.synchronizedList(new ArrayList<>());
  final List<String> attempted = Collections.synchronizedList(new ArrayList<>());
  final List<String> staleReads = Collections.synchronizedList(new ArrayList<>());
  final Map<String, AtomicLong> acked = new ConcurrentHashMap<>();
  private final List<? extends Instance> instances;
  private final String scenario;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private volatile boolean running = true;
  private final AtomicLong sequence = new AtomicLong();
  private final long startNanos = System.nanoTime();
  private volatile long stoppedNanos;

  /**
   * Readers and writers spread over {@code instances} (thread i calls instance i mod n), half of
   * them over REST and half over gRPC, each pausing {@link #PAUSE_MILLIS} between calls.
   */
  Load(List<? extends Instance> instances, String scenario, int readers, int writers) {
    this.instances = instances;
    this.scenario = scenario;
    for (int i = 0; i < DOCUMENTS; i++) {
      acked.put(doc(i), new AtomicLong());
    }
    for (int r = 0; r < readers; r++) {
      Instance at = instances.get(r % instances.size());
      boolean grpc = r % 2 == 1;
      threads.submit(() -> loop(grpc ? () -> grpcRead(at) : () -> restRead(at)));
    }
    for (int w = 0; w < writers; w++) {
      Instance at = instances.get(w % instances.size());
      // every other writer, as for readers: with three writers on three instances the old rule
      // (every other round of instances) made them all REST, and no keyed write ever raced
      boolean grpc = w % 2 == 1;
      threads.submit(() -> loop(grpc ? () -> grpcWrite(at) : () -> restWrite(at)));
    }
  }

  static final long PAUSE_MILLIS = Long.getLong("faults.pause", 20);

  /** The calls a second the load made. */
  double perSecond() {
    long end = stoppedNanos > 0 ? stoppedNanos : System.nanoTime();
    return calls.size() / ((end - startNanos) / 1e9);
  }

  /** {@link #perSecond()} for the report. */
  String rate() {
    return String.format(" rate=%.0f/s", perSecond());
  }

  String doc(int i) {
    return scenario + "-doc-" + i;
  }

  void stop() throws InterruptedException {
    stoppedNanos = System.nanoTime();
    running = false;
    threads.shutdown();
    threads.awaitTermination(30, TimeUnit.SECONDS);
  }

  private void loop(Runnable call) {
    while (running) {
      try {
        call.run();
      } catch (RuntimeException e) {
        calls.add(
            new Call(
                "client",
                System.nanoTime(),
                0,
                false,
                e.getClass().getSimpleName(),
                false,
                String.valueOf(e.getMessage())));
      }
      sleepMillis(PAUSE_MILLIS);
    }
  }

  private String randomDoc() {
    return doc(ThreadLocalRandom.current().nextInt(DOCUMENTS));
  }

  private void restRead(Instance service) {
    String doc = randomDoc();
    long expected = acked.get(doc).get();
    long start = System.nanoTime();
    Http.Response r = service.rest.get("/api/v1/drop-tables/" + doc);
    record("restRead@" + service.name, start, r.status() == 200 || r.status() == 404, r);
    if (r.status() == 200) {
      checkFresh(doc, expected, r.json().get("version").asLong());
    }
  }

  private void grpcRead(Instance service) {
    String doc = randomDoc();
    long expected = acked.get(doc).get();
    long start = System.nanoTime();
    try {
      var response =
          stub(service)
              .getConfigs(
                  GetConfigsRequest.newBuilder()
                      .addRefs(
                          ConfigRef.newBuilder()
                              .setKind(ConfigKind.CONFIG_KIND_DROP_TABLE)
                              .setId(doc))
                      .build());
      record("grpcRead@" + service.name, start, null);
      if (response.getConfigsCount() == 1) {
        checkFresh(doc, expected, response.getConfigs(0).getVersion());
      }
    } catch (StatusRuntimeException e) {
      record("grpcRead@" + service.name, start, e);
    }
  }

  private void restWrite(Instance service) {
    String doc = randomDoc();
    String item = "i" + sequence.incrementAndGet();
    attempted.add(item);
    long start = System.nanoTime();
    Http.Response r = service.rest.put("/api/v1/drop-tables/" + doc, dropTable(item, 1));
    boolean ok = r.status() == 200 || r.status() == 201;
    record("restWrite@" + service.name, start, ok, r);
    if (ok) {
      acknowledge(
          item, doc, r.json().get("version").asLong(), r.json().get("contentHash").asText());
    }
  }

  /** A gRPC batch, retried with the same idempotency key until it is acknowledged. */
  private void grpcWrite(Instance service) {
    String doc = randomDoc();
    String item = "i" + sequence.incrementAndGet();
    attempted.add(item);
    PutConfigsRequest request =
        PutConfigsRequest.newBuilder()
            .setIdempotencyKey(scenario + "-" + item)
            .addWrites(
                ConfigWrite.newBuilder()
                    .setOp(WriteOp.WRITE_OP_UPSERT)
                    .setKind(ConfigKind.CONFIG_KIND_DROP_TABLE)
                    .setId(doc)
                    .setPayloadJson(dropTable(item, 1)))
            .build();
    while (true) {
      long start = System.nanoTime();
      try {
        PutConfigsResponse response = stub(service).putConfigs(request);
        record("grpcWrite@" + service.name, start, null);
        var d = response.getResults(0).getDocument();
        acknowledge(item, doc, d.getVersion(), d.getContentHash());
        return;
      } catch (StatusRuntimeException e) {
        record("grpcWrite@" + service.name, start, e);
        if (!running) {
          return; // gave up: not acknowledged
        }
        sleepMillis(50);
      }
    }
  }

  private static ConfigServiceGrpc.ConfigServiceBlockingStub stub(Instance service) {
    return ConfigServiceGrpc.newBlockingStub(service.channel)
        .withCallCredentials(TOKEN)
        .withDeadlineAfter(1, TimeUnit.SECONDS);
  }

  private void acknowledge(String item, String doc, long version, String hash) {
    acks.add(new Ack(item, doc, version, hash));
    acked.get(doc).accumulateAndGet(version, Math::max);
  }

  private void checkFresh(String doc, long expected, long observed) {
    if (observed < expected) {
      staleReads.add(
          doc + ": read version " + observed + " after version " + expected + " was acknowledged");
    }
  }

  /** A REST call's outcome; a failure's detail is its problem detail's text. */
  private void record(String what, long start, boolean ok, Http.Response r) {
    record(what, start, ok, ok ? null : failure(r), ok ? null : detail(r));
  }

  private static String detail(Http.Response r) {
    try {
      return r.json().path("detail").asText(r.body());
    } catch (RuntimeException notJson) {
      return r.body();
    }
  }

  /** A gRPC call's outcome: {@code e} null when it answered. */
  private void record(String what, long start, StatusRuntimeException e) {
    record(
        what,
        start,
        e == null,
        e == null ? null : e.getStatus().getCode().name(),
        e == null ? null : e.getStatus().getDescription());
  }

  private void record(String what, long start, boolean ok, String failure, String detail) {
    long latency = System.nanoTime() - start;
    calls.add(
        new Call(
            what,
            start,
            latency,
            ok,
            failure,
            !ok && latency < TimeUnit.MILLISECONDS.toNanos(100),
            detail));
  }

  private static String failure(Http.Response r) {
    if (r.status() == 503 && r.header("Retry-After").isEmpty()) {
      return "503 without Retry-After";
    }
    return String.valueOf(r.status());
  }

  private static void sleepMillis(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
