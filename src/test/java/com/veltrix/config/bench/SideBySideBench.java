package com.veltrix.config.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * veltrix-config and etcd side by side: {@code bench/run} (or {@code ./mvnw -Pbench verify
 * -Dbench.size=standard|full}). Writes target/bench/results.json and results.md. Not part of the
 * default build; {@link SideBySideSmokeTest} runs the same harness small in every build.
 */
class SideBySideBench {

  @Test
  void veltrixAndEtcdSideBySide() {
    BenchSize size = BenchSize.named(System.getProperty("bench.size", "standard"));
    Path dir = Path.of("target", "bench");
    List<Measured> results;
    try (SideBySide bench = new SideBySide(size, dir)) {
      results = bench.run();
      Report.write(dir, bench.environment(), results);
      System.out.println("\n" + Report.markdown(bench.environment(), results));
    }
    assertThat(results).allSatisfy(m -> assertThat(m.operations()).isPositive());
  }
}
