package com.veltrix.config.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * One system's figures for one run of one workload: operations (documents for ingest and cold load)
 * per second over the measured window, latency percentiles of its calls, errors, and notes. {@code
 * run} counts from 1 ({@link Report} takes the median over the runs).
 */
record Measured(
    int run,
    String workload,
    String system,
    long operations,
    double seconds,
    double perSecond,
    double p50Ms,
    double p99Ms,
    double p999Ms,
    long errors,
    Map<String, Object> notes) {

  /** A histogram of microseconds. */
  static Histogram histogram() {
    return new Histogram(60_000_000L, 3);
  }

  static Measured of(
      String workload, String system, long operations, double seconds, Histogram us, long errors) {
    return new Measured(
        1,
        workload,
        system,
        operations,
        seconds,
        operations / seconds,
        us.getValueAtPercentile(50) / 1000.0,
        us.getValueAtPercentile(99) / 1000.0,
        us.getValueAtPercentile(99.9) / 1000.0,
        errors,
        new LinkedHashMap<>());
  }

  /** The same figures, as run {@code n}. */
  Measured asRun(int n) {
    return new Measured(
        n, workload, system, operations, seconds, perSecond, p50Ms, p99Ms, p999Ms, errors, notes);
  }

  Measured note(String key, Object value) {
    notes.put(key, value);
    return this;
  }
}
