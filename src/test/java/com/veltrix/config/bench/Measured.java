package com.veltrix.config.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * One system's figures for one workload: operations (documents for ingest and cold load) per second
 * over the measured window, latency percentiles of its calls, errors, and notes.
 */
record Measured(
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

  Measured note(String key, Object value) {
    notes.put(key, value);
    return this;
  }
}
