package com.veltrix.config.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The benchmark harness, small (2,000 documents, 1 s windows), in every build so it cannot rot. It
 * checks that every workload ran without errors and that the report is written; it asserts no
 * speed. etcd's side runs when an etcd binary is on the PATH.
 */
class SideBySideSmokeTest {

  @Test
  void everyWorkloadRunsAndTheReportIsWritten() throws Exception {
    Path dir = Path.of("target", "bench-smoke");
    List<Measured> results;
    boolean etcdRan;
    boolean wrkRan;
    try (SideBySide bench = new SideBySide(BenchSize.smoke(), dir)) {
      results = bench.run();
      Report.write(dir, bench.environment(), results);
      etcdRan = !String.valueOf(bench.environment().get("etcd")).startsWith("not run");
      wrkRan = !String.valueOf(bench.environment().get("wrk")).startsWith("not run");
    }

    List<String> systems =
        etcdRan
            ? List.of("veltrix gRPC", "veltrix REST", "etcd")
            : List.of("veltrix gRPC", "veltrix REST");
    assertThat(results.stream().map(Measured::system).distinct())
        .containsExactlyInAnyOrderElementsOf(systems);
    List<String> workloads =
        new ArrayList<>(List.of(Workloads.INGEST_FIRST, Workloads.INGEST, Workloads.POINT_READ));
    if (wrkRan) {
      workloads.add(Wrk.POINT_READ);
    }
    workloads.addAll(
        List.of(Workloads.COLD_LOAD, Workloads.WATCH, Workloads.MIXED, Workloads.INGEST_IN_FLIGHT));
    assertThat(results.stream().map(Measured::workload).distinct())
        .containsExactlyElementsOf(workloads);
    assertThat(results)
        .allSatisfy(
            m -> {
              assertThat(m.errors()).as(m.workload() + " on " + m.system()).isZero();
              assertThat(m.operations()).as(m.workload() + " on " + m.system()).isPositive();
            });
    assertThat(results)
        .filteredOn(
            m -> m.workload().equals(Workloads.COLD_LOAD) && m.system().startsWith("veltrix"))
        .singleElement()
        .satisfies(m -> assertThat((Long) m.notes().get("peakHeapMiB")).isPositive());
    assertThat(results).allSatisfy(m -> assertThat(m.run()).isEqualTo(1));
    assertThat(Files.readString(dir.resolve("results.md")))
        .contains("| " + Workloads.MIXED + " |")
        .contains("Median of each workload's runs");
    assertThat(Files.readString(dir.resolve("results.json"))).contains("\"p999Ms\"");
  }
}
