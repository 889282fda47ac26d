package com.veltrix.config.grpc;

import com.veltrix.config.grpc.v1.ConfigDocument;
import com.veltrix.config.grpc.v1.ConfigKind;
import com.veltrix.config.grpc.v1.ConfigRef;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc.ConfigServiceBlockingStub;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.grpc.v1.ListActiveRequest;
import com.veltrix.config.grpc.v1.ListActiveResponse;
import com.veltrix.config.grpc.v1.ManifestEntry;
import com.veltrix.config.grpc.v1.WatchChangesRequest;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.support.Tokens;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * What a Flink job does with veltrix-config, as small as it can be:
 *
 * <ol>
 *   <li>ListActive: the manifest of ACTIVE documents at one revision;
 *   <li>GetConfigs: the payloads of the versions it does not hold yet, in batches of up to 1,000
 *       (versions are immutable, so they are cached forever);
 *   <li>WatchChanges from that revision on, applying each change; after a disconnect it reconnects
 *       and resumes from the last revision it processed completely: nothing is lost, and what is
 *       repeated is recognised by its version.
 * </ol>
 *
 * Every call has a deadline, and a watch from which nothing came (no change, no PROGRESS, which an
 * idle watch gets every {@code watch-progress-interval}) for {@code silence} is given up as a
 * disconnect: a server whose node was lost, or a partition, says nothing, no FIN, no reset, and
 * without a bound the consumer would wait on it forever with a view that no longer moves.
 *
 * <p>Its calls accept messages of up to {@link #MAX_ANSWER_BYTES}: a GetConfigs answer carries up
 * to 1,000 documents of up to 64 KiB, and gRPC's default limit (4 MiB) fails a larger answer on the
 * consumer's side with RESOURCE_EXHAUSTED, however often it is asked again. After a failure it
 * waits before it connects again, longer after each failure in a row (full jitter, from 100 ms up
 * to 5 s), so that consumers whose service is down or refusing do not ask in a tight loop.
 *
 * <p>The materialised view maps (kind, id) to the ACTIVE version's payload.
 */
public final class ExampleConsumer implements Runnable {

  /** The largest GetConfigs answer: 1,000 payloads of 64 KiB (65.5 MB) and their fields. */
  public static final int MAX_ANSWER_BYTES = 64 * 1024 * 1024;

  private static final long FIRST_BACKOFF_MILLIS = 100;
  private static final long MAX_BACKOFF_MILLIS = 5_000;

  public record Key(ConfigKind kind, String id) {}

  public record Held(long version, String contentHash, String payloadJson) {}

  private final Supplier<ManagedChannel> connect;
  private final Map<Key, Held> view = new ConcurrentHashMap<>();
  private final Map<Key, Long> newestSeen = new ConcurrentHashMap<>();
  private final Map<ConfigRef, ConfigDocument> cache = new ConcurrentHashMap<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger relists = new AtomicInteger();
  private final AtomicInteger fetchedFromServer = new AtomicInteger();
  private final AtomicInteger silences = new AtomicInteger();
  private final Duration silence;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "example-consumer-silence");
            t.setDaemon(true);
            return t;
          });
  private volatile ManagedChannel channel;
  private volatile long revision = -1;
  private volatile long heardNanos; // when the watch last sent anything
  private volatile boolean stopped;

  /** Gives a watch up after 15 s of silence: three of the service's PROGRESS intervals (5 s). */
  public ExampleConsumer(Supplier<ManagedChannel> connect) {
    this(connect, Duration.ofSeconds(15));
  }

  public ExampleConsumer(Supplier<ManagedChannel> connect, Duration silence) {
    this.connect = connect;
    this.silence = silence;
  }

  /** Every change up to this revision is in the view (-1 before the manifest is loaded). */
  public long revision() {
    return revision;
  }

  public Map<Key, Held> view() {
    return Map.copyOf(view);
  }

  public int connections() {
    return connections.get();
  }

  /** How often the consumer fell behind the retained history and listed again. */
  public int relists() {
    return relists.get();
  }

  /** Runs again after {@link #stop()} (call {@link #run()} on a new thread). */
  public void restart() {
    stopped = false;
  }

  public int fetchedFromServer() {
    return fetchedFromServer.get();
  }

  /** How often a watch was given up because nothing came for {@code silence}. */
  public int silences() {
    return silences.get();
  }

  /** Drops the connection, as a network failure or a pod going away would. */
  public void disconnect() {
    ManagedChannel current = channel;
    if (current != null) {
      current.shutdownNow();
    }
  }

  public void stop() {
    stopped = true;
    disconnect();
  }

  /** Runs the consumer on a thread of its own until the handle is closed. */
  public Running start() {
    return new Running(this);
  }

  /** A consumer running on its own thread. */
  public static final class Running implements AutoCloseable {
    private final ExampleConsumer consumer;
    private final ExecutorService thread = Executors.newSingleThreadExecutor();
    private final Future<?> run;

    private Running(ExampleConsumer consumer) {
      this.consumer = consumer;
      this.run = thread.submit(consumer);
    }

    /** Stops the consumer and waits for its thread; what failed its run is thrown here. */
    @Override
    public void close() throws Exception {
      consumer.stop();
      try {
        run.get(10, TimeUnit.SECONDS);
      } finally {
        thread.shutdownNow();
      }
    }
  }

  @Override
  public void run() {
    int failuresInARow = 0;
    while (!stopped) {
      if (failuresInARow > 0) {
        backOff(failuresInARow);
        if (stopped) {
          break;
        }
      }
      long before = revision;
      int fetchedBefore = fetchedFromServer.get();
      channel = connect.get();
      connections.incrementAndGet();
      ConfigServiceBlockingStub stub =
          ConfigServiceGrpc.newBlockingStub(channel)
              .withCallCredentials(Tokens.bearer(Tokens.admin()))
              .withMaxInboundMessageSize(MAX_ANSWER_BYTES);
      try {
        if (revision < 0) {
          loadManifest(stub.withDeadlineAfter(5, TimeUnit.MINUTES));
        }
        follow(stub);
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
          // fell behind the retained history: the changes since `revision` are gone, so the
          // view is rebuilt from a new manifest (documents retired meanwhile drop out)
          view.clear();
          newestSeen.clear();
          revision = -1;
          relists.incrementAndGet();
        }
        // otherwise disconnected: reconnect and resume from `revision`
      } finally {
        channel.shutdownNow();
      }
      boolean progressed = revision != before || fetchedFromServer.get() != fetchedBefore;
      failuresInARow = progressed ? 1 : failuresInARow + 1;
    }
  }

  /** Waits up to 100 ms after the first failure, twice that after each further one, up to 5 s. */
  private void backOff(int failuresInARow) {
    long cap = FIRST_BACKOFF_MILLIS << Math.min(failuresInARow - 1, 10);
    try {
      Thread.sleep(ThreadLocalRandom.current().nextLong(Math.min(cap, MAX_BACKOFF_MILLIS) + 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopped = true;
    }
  }

  /** The manifest's documents, fetched 1,000 at a time whatever the size of its chunks. */
  private void loadManifest(ConfigServiceBlockingStub stub) {
    long manifestRevision = 0;
    List<ConfigRef> refs = new ArrayList<>();
    Iterator<ListActiveResponse> manifest = stub.listActive(ListActiveRequest.getDefaultInstance());
    while (manifest.hasNext()) {
      ListActiveResponse chunk = manifest.next();
      manifestRevision = chunk.getRevision();
      for (ManifestEntry e : chunk.getEntriesList()) {
        refs.add(ref(e.getKind(), e.getId(), e.getVersion()));
        if (refs.size() == 1000) {
          applyAll(fetch(stub, refs));
          refs.clear();
        }
      }
    }
    applyAll(fetch(stub, refs));
    revision = manifestRevision;
  }

  private void applyAll(List<ConfigDocument> documents) {
    for (ConfigDocument d : documents) {
      apply(d.getKind(), d.getId(), d.getVersion(), d);
    }
  }

  /** Follows the watch until it ends, fails, or is silent for {@code silence}. */
  private void follow(ConfigServiceBlockingStub stub) {
    Context.CancellableContext watch = Context.current().withCancellation();
    heardNanos = System.nanoTime();
    long limit = silence.toNanos();
    ScheduledFuture<?> watchdog =
        timer.scheduleWithFixedDelay(
            () -> {
              if (!watch.isCancelled() && System.nanoTime() - heardNanos > limit) {
                silences.incrementAndGet();
                watch.cancel(
                    Status.UNAVAILABLE
                        .withDescription("nothing from the watch for " + silence)
                        .asRuntimeException());
              }
            },
            limit / 4,
            limit / 4,
            TimeUnit.NANOSECONDS);
    try {
      watch.run(() -> read(stub));
    } finally {
      watchdog.cancel(false);
      watch.cancel(null);
    }
  }

  private void read(ConfigServiceBlockingStub stub) {
    Iterator<WatchChangesResponse> events =
        stub.watchChanges(WatchChangesRequest.newBuilder().setAfterRevision(revision).build());
    long open = -1; // a revision whose events may not all have arrived yet
    while (!stopped && events.hasNext()) {
      WatchChangesResponse e = events.next();
      heardNanos = System.nanoTime();
      if (e.getType() == WatchChangesResponse.ChangeType.CHANGE_TYPE_PROGRESS) {
        revision = e.getRevision();
        open = -1;
        continue;
      }
      if (open != -1 && e.getRevision() != open) {
        revision = open; // events come in revision order: the previous one is complete
      }
      open = e.getRevision();
      if (e.getType() == WatchChangesResponse.ChangeType.CHANGE_TYPE_RETIRED) {
        apply(e.getKind(), e.getId(), e.getVersion(), null);
      } else {
        apply(
            e.getKind(),
            e.getId(),
            e.getVersion(),
            fetch(stub, List.of(ref(e.getKind(), e.getId(), e.getVersion()))).get(0));
      }
    }
  }

  /** Applies a version unless a newer one of the same document was seen already. */
  private void apply(ConfigKind kind, String id, long version, ConfigDocument activeOrNull) {
    Key key = new Key(kind, id);
    Long seen = newestSeen.get(key);
    if (seen != null && seen >= version) {
      return;
    }
    newestSeen.put(key, version);
    if (activeOrNull == null) {
      view.remove(key);
    } else {
      view.put(
          key, new Held(version, activeOrNull.getContentHash(), activeOrNull.getPayloadJson()));
    }
  }

  /** The documents for {@code refs}, from the cache where possible, else GetConfigs in batches. */
  private List<ConfigDocument> fetch(ConfigServiceBlockingStub stub, List<ConfigRef> refs) {
    List<ConfigRef> wanted = refs.stream().filter(r -> !cache.containsKey(r)).toList();
    for (int from = 0; from < wanted.size(); from += 1000) {
      List<ConfigRef> batch = wanted.subList(from, Math.min(wanted.size(), from + 1000));
      for (ConfigDocument d :
          stub.withDeadlineAfter(10, TimeUnit.SECONDS)
              .getConfigs(GetConfigsRequest.newBuilder().addAllRefs(batch).build())
              .getConfigsList()) {
        cache.put(ref(d.getKind(), d.getId(), d.getVersion()), d);
        fetchedFromServer.incrementAndGet();
      }
    }
    return refs.stream().map(cache::get).toList();
  }

  private static ConfigRef ref(ConfigKind kind, String id, long version) {
    return ConfigRef.newBuilder().setKind(kind).setId(id).setVersion(version).build();
  }
}
