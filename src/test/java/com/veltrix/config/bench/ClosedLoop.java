package com.veltrix.config.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
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

  record Run(Histogram latencyUs, long errors, double seconds) {
    long operations() {
      return latencyUs.getTotalCount();
    }
  }

  private ClosedLoop() {}

  static Run run(int clients, Duration warmup, Duration measured, Op op) {
    Recorder recorder = new Recorder(3);
    AtomicLong errors = new AtomicLong();
    long start = System.nanoTime();
    long measureFrom = start + warmup.toNanos();
    long end = measureFrom + measured.toNanos();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      Thread thread =
          new Thread(
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
                    if (timed) {
                      errors.incrementAndGet();
                    }
                  }
                }
              },
              "bench-client-" + c);
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    Histogram latency = recorder.getIntervalHistogram();
    double seconds = (System.nanoTime() - measureFrom) / 1e9;
    return new Run(latency, errors.get(), seconds);
  }
}
