package com.veltrix.config.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the figures were measured on, for the report. */
final class Machine {

  private Machine() {}

  static Map<String, Object> describe() {
    Map<String, Object> machine = new LinkedHashMap<>();
    machine.put("date", OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS));
    machine.put("cpu", cpuModel());
    machine.put("cores", Runtime.getRuntime().availableProcessors());
    machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    machine.put(
        "java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    machine.put("memoryMonitor", memoryMonitor());
    return machine;
  }

  /**
   * Whether the kernel runs DAMON (a memory monitor some virtual machines run to reclaim cold
   * memory) and how: on the 2-core VM of 2026-12-05 its thread {@code kdamond.0} took a core for
   * 10-16 ms every ~0.54 s, and the writes in flight then were the slowest of the watch workload
   * (docs/performance.md, "What a single write costs, and the watch's tail on this machine").
   */
  static String memoryMonitor() {
    Path kdamonds = Path.of("/sys/kernel/mm/damon/admin/kdamonds");
    try (var each = Files.list(kdamonds)) {
      StringBuilder out = new StringBuilder();
      for (Path k : each.filter(Files::isDirectory).sorted().toList()) {
        Path context = k.resolve("contexts/0");
        Path intervals = context.resolve("monitoring_attrs/intervals");
        out.append(out.isEmpty() ? "" : "; ")
            .append("DAMON kdamond.")
            .append(k.getFileName())
            .append(' ')
            .append(read(k.resolve("state")))
            .append(" (")
            .append(read(context.resolve("operations")))
            .append(", sampling every ")
            .append(micros(read(intervals.resolve("sample_us"))))
            .append(", aggregating every ")
            .append(micros(read(intervals.resolve("aggr_us"))))
            .append(')');
      }
      return out.isEmpty() ? "none (DAMON has no monitor)" : out.toString();
    } catch (IOException | RuntimeException e) {
      return "none (no DAMON here)";
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file).trim();
    } catch (IOException e) {
      return "?";
    }
  }

  private static String micros(String us) {
    try {
      return Long.parseLong(us) / 1000 + " ms";
    } catch (NumberFormatException e) {
      return us + " us";
    }
  }

  private static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
          .filter(line -> line.startsWith("model name"))
          .map(line -> line.substring(line.indexOf(':') + 1).trim())
          .findFirst()
          .orElse("unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** The first line a command prints, e.g. {@code etcd --version}. */
  static String firstLine(String... command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      process.waitFor();
      return out.lines().findFirst().orElse("").trim();
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }
}
