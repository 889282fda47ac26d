package com.veltrix.config.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/** The five workloads of issue 6, each written once against {@link Store}. */
final class Workloads {

  static final String INGEST_FIRST = "ingest, batches of 500, first pass (creates, cold JIT)";
  static final String INGEST = "ingest, batches of 500";
  static final String INGEST_IN_FLIGHT = "ingest, batches of 500, 4 in flight";
  static final String POINT_READ = "point read by id";
  static final String COLD_LOAD = "cold load (snapshot + every payload)";
  static final String WATCH = "watch, commit-to-delivery";
  static final String MIXED = "mixed 90 % read / 10 % write";

  private final BenchSize size;
  private final AtomicLong generation = new AtomicLong(1);

  Workloads(BenchSize size) {
    this.size = size;
  }

  /**
   * Writes documents 0..N-1 in batches, {@code inFlight} batches at a time (each of {@code
   * inFlight} clients sends its next batch when its last is answered). The first batches are the
   * warm-up: written, not timed; the rate is over the others. The first ingest creates the
   * documents; every later one writes each of them again with new content ({@code generation}).
   */
  Measured ingest(Store store, String workload, int inFlight, long generation) {
    Histogram batches = Measured.histogram();
    AtomicLong timedDocuments = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicReference<String> firstError = new AtomicReference<>("none");
    AtomicInteger nextBatch = new AtomicInteger();
    AtomicLong measuredFrom = new AtomicLong();
    AtomicReference<CpuTime> cpuFrom = new AtomicReference<>();
    int warmupBatches = size.ingestWarmupBatches();
    Runnable client =
        () -> {
          for (int b = nextBatch.getAndIncrement();
              b * size.batch() < size.documents();
              b = nextBatch.getAndIncrement()) {
            if (b == warmupBatches) {
              measuredFrom.set(System.nanoTime());
              cpuFrom.set(CpuTime.now());
            }
            int from = b * size.batch();
            List<String> ids = new ArrayList<>(size.batch());
            List<byte[]> payloads = new ArrayList<>(size.batch());
            for (int n = from; n < Math.min(size.documents(), from + size.batch()); n++) {
              ids.add(BenchDocs.id(n));
              payloads.add(BenchDocs.payload(n, generation));
            }
            long t0 = System.nanoTime();
            // A refused batch is counted and sent again, as a client would: the documents must
            // exist for the workloads that follow (a cold service once answered a warm-up batch
            // UNAVAILABLE at its 250 ms budget).
            for (int attempt = 1; ; attempt++) {
              try {
                store.putBatch(ids, payloads);
                break;
              } catch (RuntimeException e) {
                if (b >= warmupBatches) {
                  errors.incrementAndGet();
                  firstError.compareAndSet("none", String.valueOf(e));
                }
                if (attempt == 5) {
                  throw e;
                }
              }
            }
            if (b >= warmupBatches) {
              synchronized (batches) {
                batches.recordValue((System.nanoTime() - t0) / 1_000);
              }
              timedDocuments.addAndGet(ids.size());
            }
          }
        };
    ClosedLoop.together(inFlight, client);
    CpuTime cpuTo = CpuTime.now();
    double seconds = (System.nanoTime() - measuredFrom.get()) / 1e9;
    Measured measured =
        Measured.of(workload, store.name(), timedDocuments.get(), seconds, batches, errors.get())
            .note("latency", "per batch of " + size.batch())
            .note("writes", generation == 0 ? "creates" : "rewrites with new content")
            .note("cpuPerDocument", cpuFrom.get().perOperation(cpuTo, timedDocuments.get()));
    return errors.get() == 0 ? measured : measured.note("firstError", firstError.get());
  }

  /**
   * Not reported: the read/write mix, for {@code 2 × warmup}, so that the JVM has compiled the
   * paths the measured runs take (C2 took 30-39 % of the service's CPU during the first 35 s of
   * gRPC reads without it). etcd, compiled ahead of time, runs it too.
   */
  Measured warmup(Store store) {
    ClosedLoop.Run run =
        ClosedLoop.run(
            size.clients(),
            size.warmup().multipliedBy(2),
            Duration.ZERO,
            random -> mix(store, random));
    return measured("warm-up", store, run);
  }

  /** {@code clients} clients reading random documents by id, back to back. */
  Measured pointRead(Store store) {
    ClosedLoop.Run run =
        ClosedLoop.run(
            size.clients(),
            size.warmup(),
            size.measured(),
            random -> store.get(BenchDocs.id(random.nextInt(size.documents()))));
    return measured(POINT_READ, store, run);
  }

  /** One snapshot of everything, every payload fetched; the service's heap is sampled meanwhile. */
  Measured coldLoad(Store store, LongSupplier heapUsedBytes) {
    Histogram pages = Measured.histogram();
    HeapSampler heap = new HeapSampler(heapUsedBytes);
    long loaded;
    double seconds;
    try (heap) {
      long t0 = System.nanoTime();
      loaded = store.coldLoad(pages);
      seconds = (System.nanoTime() - t0) / 1e9; // not the sampler's last sample
    }
    if (loaded != size.documents()) {
      throw new IllegalStateException(store.name() + " cold load found " + loaded + " documents");
    }
    Measured result =
        Measured.of(COLD_LOAD, store.name(), loaded, seconds, pages, 0)
            .note("latency", "per page of 1,000");
    if (heap.peak() > 0) {
      result.note("peakHeapMiB", heap.peak() >> 20);
    }
    return result;
  }

  /**
   * A writer creating new documents at a fixed rate, without waiting for answers; a watcher on
   * their id prefix. Latency is from the moment the write is sent until the watcher has the event,
   * so it includes the commit. Events that never arrive are errors.
   */
  Measured watch(Store store, int run) {
    String prefix = "watch-" + store.name().charAt(0) + run + "-";
    Map<String, Long> sentAt = new ConcurrentHashMap<>();
    Recorder delivered = new Recorder(3);
    Recorder acknowledged =
        new Recorder(3); // the write's own answer: what the watch adds is the rest
    AtomicLong timed = new AtomicLong();
    long periodNanos = 1_000_000_000L / size.watchWritesPerSecond();
    long warmupWrites = size.warmup().toNanos() / periodNanos;
    long total = warmupWrites + size.watchMeasured().toNanos() / periodNanos;
    AtomicLong sequence = new AtomicLong();
    AtomicLong failedWrites = new AtomicLong();
    AtomicReference<String> firstFailure = new AtomicReference<>("none");
    CpuTime cpuFrom;
    CpuTime cpuTo;
    try (AutoCloseable watch =
        store.watch(
            prefix,
            id -> {
              Long sent = sentAt.remove(id);
              if (sent != null) {
                delivered.recordValue((System.nanoTime() - sent) / 1_000);
                timed.incrementAndGet();
              }
            })) {
      ChildProcess.sleep(500); // the watch is established before the first write
      ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
      writer.scheduleAtFixedRate(
          () -> {
            long n = sequence.getAndIncrement();
            if (n >= total) {
              return;
            }
            String id = prefix + n;
            long sent = System.nanoTime();
            if (n >= warmupWrites) {
              sentAt.put(id, sent);
            }
            store
                .putAsync(id, BenchDocs.payload(n, 0))
                .whenComplete(
                    (ok, failed) -> {
                      if (failed != null) {
                        failedWrites.incrementAndGet();
                        firstFailure.compareAndSet("none", failed.toString());
                        sentAt.remove(id);
                      } else if (n >= warmupWrites) {
                        acknowledged.recordValue((System.nanoTime() - sent) / 1_000);
                      }
                    });
          },
          0,
          periodNanos,
          TimeUnit.NANOSECONDS);
      while (sequence.get() < warmupWrites) {
        ChildProcess.sleep(10);
      }
      cpuFrom = CpuTime.now();
      while (sequence.get() < total) {
        ChildProcess.sleep(10);
      }
      cpuTo = CpuTime.now();
      long giveUp = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (!sentAt.isEmpty() && System.nanoTime() < giveUp) {
        ChildProcess.sleep(10); // what has not arrived 5 s after the last write is lost
      }
      writer.shutdownNow();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    Histogram latency = delivered.getIntervalHistogram();
    Histogram writes = acknowledged.getIntervalHistogram();
    return Measured.of(
            WATCH,
            store.name(),
            timed.get(),
            size.watchMeasured().toNanos() / 1e9,
            latency,
            sentAt.size() + failedWrites.get())
        .note("writesPerSecond", size.watchWritesPerSecond())
        .note("failedWrites", failedWrites.get() + " (first: " + firstFailure.get() + ")")
        .note("eventsNeverDelivered", sentAt.size())
        .note("cpuPerWrite", cpuFrom.perOperation(cpuTo, total - warmupWrites))
        .note(
            "writeAcknowledgedMs",
            "p50 %.2f, p99 %.2f"
                .formatted(
                    writes.getValueAtPercentile(50) / 1000.0,
                    writes.getValueAtPercentile(99) / 1000.0))
        .note("latency", "from sending the write to the watcher having the event");
  }

  /** {@code clients} clients; each call is a write of a new content with probability 0.1. */
  Measured mixed(Store store) {
    ClosedLoop.Run run =
        ClosedLoop.run(
            size.clients(), size.warmup(), size.measured(), random -> mix(store, random));
    return measured(MIXED, store, run);
  }

  private void mix(Store store, ThreadLocalRandom random) {
    int n = random.nextInt(size.documents());
    if (random.nextInt(10) == 0) {
      store.put(BenchDocs.id(n), BenchDocs.payload(n, generation.incrementAndGet()));
    } else {
      store.get(BenchDocs.id(n));
    }
  }

  private Measured measured(String workload, Store store, ClosedLoop.Run run) {
    Measured measured =
        Measured.of(
                workload,
                store.name(),
                run.operations(),
                run.seconds(),
                run.latencyUs(),
                run.errors())
            .note("clients", size.clients())
            .note("cpuPerOperation", run.cpuPerOperation());
    return run.errors() == 0 ? measured : measured.note("firstError", run.firstError());
  }

  /** Samples a byte count every 100 ms on a daemon thread and keeps the largest. */
  private static final class HeapSampler implements AutoCloseable {
    private final AtomicLong peak = new AtomicLong();
    private final LongSupplier used;
    private final Thread thread;

    HeapSampler(LongSupplier used) {
      this.used = used;
      thread =
          new Thread(
              () -> {
                while (!Thread.currentThread().isInterrupted()) {
                  sample();
                  try {
                    Thread.sleep(100);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "heap-sampler");
      thread.setDaemon(true);
      thread.start();
    }

    private void sample() {
      try {
        peak.accumulateAndGet(used.getAsLong(), Math::max);
      } catch (RuntimeException e) {
        // one missed sample
      }
    }

    long peak() {
      return peak.get();
    }

    /** Stops sampling, then takes one last sample, so that even a short load has one. */
    @Override
    public void close() {
      thread.interrupt();
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      sample();
    }
  }
}
