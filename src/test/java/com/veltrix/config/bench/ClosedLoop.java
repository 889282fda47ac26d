package com.veltrix.config.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * {@code clients} threads, each calling {@code op} back to back. Calls that start during the
 * warm-up are neither timed nor counted; calls that start in the measured window are, failed ones
 * as errors (never in the latency histogram).
 */
final class ClosedLoop {

  interface Op {
    void call(ThreadLocalRandom random) throws Exception;
  }

  /** {@code cpuFrom} and {@code cpuTo} bracket the measured window ({@link CpuTime}). */
  record Run(
      Histogram latencyUs,
      long errors,
      String firstError,
      double seconds,
      CpuTime cpuFrom,
      CpuTime cpuTo) {
    long operations() {
      return latencyUs.getTotalCount();
    }

    /** CPU milliseconds each process spent per measured operation. */
    String cpuPerOperation() {
      return cpuFrom.perOperation(cpuTo, operations());
    }
  }

  private ClosedLoop() {}

  static Run run(int clients, Duration warmup, Duration measured, Op op) {
    Recorder recorder = new Recorder(3);
    AtomicLong errors = new AtomicLong();
    AtomicReference<String> firstError = new AtomicReference<>("none");
    long measureFrom = System.nanoTime() + warmup.toNanos();
    long end = measureFrom + measured.toNanos();
    List<Thread> threads =
        start(
            clients,
            () -> {
              ThreadLocalRandom random = ThreadLocalRandom.current();
              long t0;
              while ((t0 = System.nanoTime()) < end) {
                boolean timed = t0 >= measureFrom;
                try {
                  op.call(random);
                  if (timed) {
                    recorder.recordValue((System.nanoTime() - t0) / 1_000);
                  }
                } catch (Exception e) {
                  if (timed && errors.incrementAndGet() == 1) {
                    firstError.set(String.valueOf(e));
                  }
                }
              }
            });
    CpuTime cpuFrom;
    try {
      long untilMeasured = measureFrom - System.nanoTime();
      if (untilMeasured > 0) {
        Thread.sleep(untilMeasured / 1_000_000, (int) (untilMeasured % 1_000_000));
      }
      cpuFrom = CpuTime.now();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    join(threads);
    CpuTime cpuTo = CpuTime.now();
    Histogram latency = recorder.getIntervalHistogram();
    double seconds = (System.nanoTime() - measureFrom) / 1e9;
    return new Run(latency, errors.get(), firstError.get(), seconds, cpuFrom, cpuTo);
  }

  /** Runs {@code work} on {@code clients} threads at once and waits for all; rethrows a failure. */
  static void together(int clients, Runnable work) {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    join(
        start(
            clients,
            () -> {
              try {
                work.run();
              } catch (RuntimeException | Error e) {
                failure.compareAndSet(null, e);
              }
            }));
    if (failure.get() instanceof RuntimeException e) {
      throw e;
    }
    if (failure.get() instanceof Error e) {
      throw e;
    }
  }

  private static List<Thread> start(int clients, Runnable work) {
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      Thread thread = new Thread(work, "bench-client-" + c);
      threads.add(thread);
      thread.start();
    }
    return threads;
  }

  private static void join(List<Thread> threads) {
    try {
      for (Thread thread : threads) {
        thread.join();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
