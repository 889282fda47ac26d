package com.veltrix.config.faults;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** Latency and outcome figures of a scenario's calls, as printed in its report. */
record Figures(
    int calls, int errors, double p50, double p99, double p999, Map<String, Long> failures) {

  static Figures of(List<Load.Call> calls) {
    List<Load.Call> copy;
    synchronized (calls) {
      copy = List.copyOf(calls);
    }
    long[] latencies = copy.stream().mapToLong(Load.Call::latencyNanos).sorted().toArray();
    Map<String, Long> failures =
        copy.stream()
            .filter(c -> !c.ok())
            .collect(
                Collectors.groupingBy(Load.Call::failure, TreeMap::new, Collectors.counting()));
    return new Figures(
        copy.size(),
        (int) copy.stream().filter(c -> !c.ok()).count(),
        millis(latencies, 0.50),
        millis(latencies, 0.99),
        millis(latencies, 0.999),
        failures);
  }

  private static double millis(long[] sorted, double quantile) {
    if (sorted.length == 0) {
      return 0;
    }
    int index = (int) Math.ceil(quantile * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))]
        / (double) TimeUnit.MILLISECONDS.toNanos(1);
  }

  /** p50 / p99 / errors of each kind of call (restRead, grpcWrite, ...), for diagnosis. */
  static String byKind(List<Load.Call> calls) {
    Map<String, List<Load.Call>> kinds;
    synchronized (calls) {
      kinds =
          calls.stream()
              .collect(Collectors.groupingBy(Load.Call::what, TreeMap::new, Collectors.toList()));
    }
    StringBuilder out = new StringBuilder();
    kinds.forEach(
        (kind, list) -> {
          Figures f = of(list);
          out.append(
              String.format(
                  " %s[n=%d p50=%.1f p99=%.1f err=%d]", kind, f.calls, f.p50, f.p99, f.errors));
        });
    return out.toString();
  }

  /**
   * The {@code n} slowest calls, each with when it started relative to the nearest of {@code
   * faults} (System.nanoTime() of each fault's start), for diagnosing a bound that was missed.
   */
  static String slowest(List<Load.Call> calls, int n, List<Long> faults) {
    return calls.stream()
        .sorted(Comparator.comparingLong(Load.Call::latencyNanos).reversed())
        .limit(n)
        .map(c -> describe(c, faults))
        .collect(Collectors.joining(", ", "slowest: ", ""));
  }

  /**
   * Every call that failed, as {@link #slowest} describes a call, with the answer's status and
   * detail: what a run that missed "no errors" had to say about each one.
   */
  static String failed(List<Load.Call> calls, List<Long> faults) {
    String failed =
        calls.stream()
            .filter(c -> !c.ok())
            .map(c -> describe(c, faults) + " " + c.failure() + " \"" + c.detail() + "\"")
            .collect(Collectors.joining(", "));
    return "failed: " + (failed.isEmpty() ? "none" : failed);
  }

  private static String describe(Load.Call c, List<Long> faults) {
    int nearest = -1;
    long millis = 0;
    for (int i = 0; i < faults.size(); i++) {
      long d = TimeUnit.NANOSECONDS.toMillis(c.startNanos() - faults.get(i));
      if (nearest < 0 || Math.abs(d) < Math.abs(millis)) {
        nearest = i;
        millis = d;
      }
    }
    String started =
        nearest < 0 ? "" : String.format(" started %+dms from fault %d", millis, nearest + 1);
    return String.format("%s %.0fms%s", c.what(), c.latencyNanos() / 1e6, started);
  }

  @Override
  public String toString() {
    return String.format(
        "calls=%d errors=%d p50=%.1fms p99=%.1fms p99.9=%.1fms failures=%s",
        calls, errors, p50, p99, p999, failures);
  }
}
