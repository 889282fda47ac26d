package com.veltrix.config.bench;

import java.time.Duration;

/**
 * How much each workload does, and how many times ({@code runs}; {@code -Dbench.runs} overrides).
 * {@code standard} runs each workload 3 times, about 25 minutes on 2 cores; {@code full} ingests
 * and cold-loads a million documents; {@code smoke} runs each once, small, and only proves, inside
 * {@code ./mvnw verify}, that the harness still runs end to end.
 */
record BenchSize(
    String name,
    int documents,
    int batch,
    int ingestWarmupBatches,
    int clients,
    Duration warmup,
    Duration measured,
    int watchWritesPerSecond,
    Duration watchMeasured,
    Duration settle,
    int runs) {

  static BenchSize standard() {
    return new BenchSize(
        "standard",
        100_000,
        500,
        10,
        32,
        Duration.ofSeconds(15),
        Duration.ofSeconds(20),
        200,
        Duration.ofSeconds(20),
        Duration.ofSeconds(2),
        3);
  }

  static BenchSize full() {
    return standard().with("full", 1_000_000);
  }

  static BenchSize smoke() {
    return new BenchSize(
        "smoke",
        2_000,
        500,
        1,
        4,
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        50,
        Duration.ofSeconds(2),
        Duration.ofMillis(200),
        1);
  }

  static BenchSize named(String name) {
    return switch (name) {
      case "standard" -> standard();
      case "full" -> full();
      case "smoke" -> smoke();
      default -> throw new IllegalArgumentException("bench.size: standard, full or smoke");
    };
  }

  private BenchSize with(String otherName, int otherDocuments) {
    return new BenchSize(
        otherName,
        otherDocuments,
        batch,
        ingestWarmupBatches,
        clients,
        warmup,
        measured,
        watchWritesPerSecond,
        watchMeasured,
        settle,
        runs);
  }
}
