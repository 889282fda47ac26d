package com.veltrix.config.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.DoubleSummaryStatistics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * {@code results.json} (every run's figures) and {@code results.md}: the median and range of each
 * workload's runs (the table the README carries), then every run. The ratio compares veltrix's
 * median with etcd's of the same workload: ops/s over ops/s, and for the watch, whose rate is
 * fixed, p99 over p99 (lower is better there).
 */
final class Report {

  private Report() {}

  static String markdown(Map<String, Object> environment, List<Measured> results) {
    Map<String, List<Measured>> groups = new LinkedHashMap<>();
    for (Measured m : results) {
      groups.computeIfAbsent(m.workload() + " | " + m.system(), k -> new ArrayList<>()).add(m);
    }
    StringBuilder md = new StringBuilder();
    md.append("Median of each workload's runs, range (lowest-highest) in brackets:\n\n");
    md.append(
        "| workload | system | runs | ops/s | p50 ms | p99 ms | p99.9 ms | errors | veltrix/etcd"
            + " |\n");
    md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (List<Measured> runs : groups.values()) {
      Measured first = runs.get(0);
      md.append(
          "| %s | %s | %d | %s | %.2f | %s | %.2f | %d | %s |\n"
              .formatted(
                  first.workload(),
                  first.system(),
                  runs.size(),
                  withRange(runs, Measured::perSecond, "%,.0f"),
                  median(runs, Measured::p50Ms),
                  withRange(runs, Measured::p99Ms, "%.2f"),
                  median(runs, Measured::p999Ms),
                  runs.stream().mapToLong(Measured::errors).sum(),
                  ratio(first, groups)));
    }
    md.append("\nEvery run:\n\n");
    md.append(
        "| run | workload | system | ops/s | p50 ms | p99 ms | p99.9 ms | errors | notes |\n");
    md.append("|---:|---|---|---:|---:|---:|---:|---:|---|\n");
    for (Measured m : results) {
      md.append("| ").append(m.run()).append(' ').append(row(m, m.notes().toString())).append('\n');
    }
    md.append('\n');
    for (Measured m : results) {
      if (m.notes().containsKey("peakHeapMiB")) {
        md.append(
            "%s, %s, run %d: %,d documents in %.1f s, service heap peak %s MiB (limit %s).\n"
                .formatted(
                    m.workload(),
                    m.system(),
                    m.run(),
                    m.operations(),
                    m.seconds(),
                    m.notes().get("peakHeapMiB"),
                    SideBySide.SERVICE_HEAP));
      }
    }
    md.append("\nMeasured on: ");
    environment.forEach((k, v) -> md.append(k).append(" = ").append(v).append("; "));
    md.setLength(md.length() - 2);
    return md.append(".\n").toString();
  }

  /** The median of a figure over the runs (the mean of the middle two for an even count). */
  static double median(List<Measured> runs, ToDoubleFunction<Measured> figure) {
    double[] values = runs.stream().mapToDouble(figure).sorted().toArray();
    int mid = values.length / 2;
    return values.length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  }

  private static String withRange(
      List<Measured> runs, ToDoubleFunction<Measured> figure, String format) {
    String median = format.formatted(median(runs, figure));
    if (runs.size() == 1) {
      return median;
    }
    DoubleSummaryStatistics all = runs.stream().mapToDouble(figure).summaryStatistics();
    return median
        + " ("
        + format.formatted(all.getMin())
        + "-"
        + format.formatted(all.getMax())
        + ")";
  }

  /** One Markdown row: workload, system, ops/s, p50, p99, p99.9, errors, ratio. */
  static String row(Measured m, String ratio) {
    return "| %s | %s | %,.0f | %.2f | %.2f | %.2f | %d | %s |"
        .formatted(
            m.workload(),
            m.system(),
            m.perSecond(),
            m.p50Ms(),
            m.p99Ms(),
            m.p999Ms(),
            m.errors(),
            ratio);
  }

  static void write(Path dir, Map<String, Object> environment, List<Measured> results) {
    ObjectMapper json =
        new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT);
    try {
      Files.createDirectories(dir);
      json.writeValue(
          dir.resolve("results.json").toFile(),
          Map.of("environment", environment, "results", results));
      Files.writeString(dir.resolve("results.md"), markdown(environment, results));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** veltrix's median over etcd's median of the same workload: ops/s, or p99 for the watch. */
  private static String ratio(Measured m, Map<String, List<Measured>> groups) {
    if (m.system().equals("etcd")) {
      return "";
    }
    List<Measured> etcd = groups.get(m.workload() + " | etcd");
    if (etcd == null) {
      return "n/a";
    }
    List<Measured> veltrix = groups.get(m.workload() + " | " + m.system());
    if (m.workload().equals(Workloads.WATCH)) {
      return "%.2f × (p99)"
          .formatted(median(veltrix, Measured::p99Ms) / median(etcd, Measured::p99Ms));
    }
    return "%.2f ×"
        .formatted(median(veltrix, Measured::perSecond) / median(etcd, Measured::perSecond));
  }
}
