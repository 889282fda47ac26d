package com.veltrix.config.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code results.json} (every figure) and {@code results.md} (the table the README carries). The
 * ratio compares each veltrix row with etcd's row of the same workload: ops/s over ops/s, and for
 * the watch, whose rate is fixed, p99 over p99 (lower is better there).
 */
final class Report {

  private Report() {}

  static String markdown(Map<String, Object> environment, List<Measured> results) {
    StringBuilder md = new StringBuilder();
    md.append(
        "| workload | system | ops/s | p50 ms | p99 ms | p99.9 ms | errors | veltrix/etcd |\n");
    md.append("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (Measured m : results) {
      md.append(row(m, ratio(m, results))).append('\n');
    }
    md.append('\n');
    for (Measured m : results) {
      if (m.notes().containsKey("peakHeapMiB")) {
        md.append(
            "%s, %s: %,d documents in %.1f s, service heap peak %s MiB (limit %s).\n"
                .formatted(
                    m.workload(),
                    m.system(),
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

  private static String ratio(Measured m, List<Measured> results) {
    if (m.system().equals("etcd")) {
      return "";
    }
    Optional<Measured> etcd =
        results.stream()
            .filter(r -> r.system().equals("etcd") && r.workload().equals(m.workload()))
            .findFirst();
    if (etcd.isEmpty()) {
      return "n/a";
    }
    if (m.workload().equals(Workloads.WATCH)) {
      return "%.2f × (p99)".formatted(m.p99Ms() / etcd.get().p99Ms());
    }
    return "%.2f ×".formatted(m.perSecond() / etcd.get().perSecond());
  }
}
