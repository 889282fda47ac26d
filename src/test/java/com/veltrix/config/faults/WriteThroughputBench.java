package com.veltrix.config.faults;

import static com.veltrix.config.support.Payloads.dropTable;

import com.veltrix.config.support.ChildJvm;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Issue 12's write figures, measured (not asserted): three service JVMs (full JIT) share one
 * PostgreSQL through the fault proxy, which adds 1 ms each way (a cross-zone round trip) or 0 ms.
 * 32 closed-loop clients send single-document PUTs over REST, spread over the three instances, with
 * group commit on and off; then 1,000-document batches (create, re-push, keyed write, replay,
 * retire) are timed on one instance. Run with {@code ./mvnw -Pbench verify
 * -Dtest=WriteThroughputBench}; the table goes to {@code target/bench/writes.md}.
 */
class WriteThroughputBench {

  static final int CLIENTS = Integer.getInteger("writes.clients", 32);
  static final int WARM_UP_SECONDS = Integer.getInteger("writes.warmup", 10);
  static final int MEASURE_SECONDS = Integer.getInteger("writes.seconds", 15);

  final List<String> report = new ArrayList<>();

  /** The same runs as each instance measured them (its own histograms). */
  final List<String> serverSide = new ArrayList<>();

  @Test
  void writesPerSecondWithAndWithoutGroupCommit() throws Exception {
    int pg = TestDatabase.postgres().getPort();
    try (FaultProxy proxy = new FaultProxy(pg, 1)) {
      String url = ProductionFaultsTest.url(proxy.port(), "postgres");
      report.add(
          "| group commit | injected latency (each way) | writes/s | p50 ms | p99 ms |"
              + " answered | refused (status: count) |");
      report.add("|---|---:|---:|---:|---:|---:|---|");
      for (boolean grouped :
          Boolean.getBoolean("writes.groupedOnly") ? List.of(true) : List.of(true, false)) {
        List<ServiceProcess> instances = start(url, grouped);
        try {
          for (int latency : List.of(1, 0)) {
            proxy.latency(latency);
            run(instances, grouped, latency, WARM_UP_SECONDS, false);
            run(instances, grouped, latency, MEASURE_SECONDS, true);
          }
          if (grouped) {
            reportServerSide();
            proxy.latency(1);
            batches(instances.get(0), "warm", false); // the JIT's first pass over these paths
            report.add("");
            report.add("| 1,000-document batch (1 ms each way) | status | ms |");
            report.add("|---|---:|---:|");
            batches(instances.get(0), "batch", true);
          }
        } finally {
          instances.forEach(ServiceProcess::close);
        }
      }
    }
    reportServerSide();
    String text = String.join("\n", report) + "\n";
    System.out.println("WRITES\n" + text);
    Path out = Path.of("target", "bench", "writes.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, text + "\nMeasured on: " + machine() + "\n");
  }

  /** The server-side table of the runs since the last one, bucket upper bounds in ms. */
  void reportServerSide() {
    if (serverSide.isEmpty()) {
      return;
    }
    report.add("");
    report.add(
        "| group commit | injected latency | instance | PUT, whole call: p50 / p99 ms"
            + " | queued for its group | its group's transaction |");
    report.add("|---|---:|---|---|---|---|");
    report.addAll(serverSide);
    serverSide.clear();
  }

  static String machine() {
    return Runtime.getRuntime().availableProcessors()
        + " cores, Java "
        + System.getProperty("java.version")
        + ", embedded PostgreSQL, "
        + Integer.getInteger("writes.instances", 3)
        + " service JVM(s) (-Xmx512m) and the clients on one machine";
  }

  static List<ServiceProcess> start(String url, boolean grouped) throws Exception {
    List<ServiceProcess> instances = new ArrayList<>();
    for (String name :
        List.of("w1", "w2", "w3").subList(0, Integer.getInteger("writes.instances", 3))) {
      instances.add(
          new ServiceProcess(
              name,
              url,
              "0s",
              Map.of("veltrix.writes.group-commit", grouped, "logging.level.root", "WARN"),
              jvmArguments()));
    }
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    for (ServiceProcess p : instances) {
      while (!"UP".equals(p.readiness())) {
        if (System.nanoTime() > until) {
          throw new IllegalStateException(p.name + " not ready; log: " + p.log);
        }
        Thread.sleep(200);
      }
    }
    return instances;
  }

  /** -Xmx512m, and {@code -Dwrites.jvm-args} (space-separated), e.g. to record a profile. */
  static List<String> jvmArguments() {
    List<String> jvm = new ArrayList<>(List.of("-Xmx512m"));
    jvm.addAll(ChildJvm.optionsFrom("writes.jvm-args"));
    return jvm;
  }

  void run(List<ServiceProcess> instances, boolean grouped, int latency, int seconds, boolean keep)
      throws Exception {
    LongAdder answered = new LongAdder();
    Map<Integer, AtomicInteger> refused = new ConcurrentHashMap<>();
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    Map<ServiceProcess, String> before = new HashMap<>();
    if (keep) {
      for (ServiceProcess p : instances) {
        before.put(p, p.management.get("/actuator/prometheus").body());
      }
    }
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    for (int c = 0; c < CLIENTS; c++) {
      int client = c;
      Http http = instances.get(c % instances.size()).rest;
      clients.submit(
          () -> {
            for (int n = 0; System.nanoTime() < end; n++) {
              long start = System.nanoTime();
              Http.Response r =
                  http.put(
                      "/api/v1/drop-tables/c" + client + "-" + (n % 100),
                      dropTable("item-" + n, 1 + n % 97));
              long took = System.nanoTime() - start;
              if (r.status() == 200 || r.status() == 201) {
                answered.increment();
                latencies.add(took);
              } else {
                refused.computeIfAbsent(r.status(), k -> new AtomicInteger()).incrementAndGet();
              }
            }
          });
    }
    clients.shutdown();
    clients.awaitTermination(seconds + 30L, TimeUnit.SECONDS);
    if (!keep) {
      return;
    }
    for (ServiceProcess p : instances) {
      String metrics = p.management.get("/actuator/prometheus").body();
      String was = before.get(p);
      serverSide.add(
          String.format(
              "| %s | %d ms | %s | %s | %s | %s |",
              grouped ? "on" : "off",
              latency,
              p.name,
              ServerHistograms.quantiles(
                  was,
                  metrics,
                  "http_server_requests_seconds",
                  List.of("method=\"PUT\"", "uri=\"/api/v1/{kind}/{id}\""),
                  0.5,
                  0.99),
              ServerHistograms.quantiles(
                  was, metrics, "veltrix_writes_queue_seconds", List.of(), 0.5, 0.99),
              ServerHistograms.quantiles(
                  was, metrics, "veltrix_writes_group_transaction_seconds", List.of(), 0.5, 0.99)));
      report.add(
          "<!-- "
              + p.name
              + " "
              + metrics
                  .lines()
                  .filter(
                      l ->
                          l.startsWith("veltrix_writes_group_requests_")
                              || l.startsWith("veltrix_db_retries_total")
                              || l.startsWith("resilience4j_retry_calls_total"))
                  .map(l -> l.replaceAll("\\{.*application=\"veltrix-config\",?", "{"))
                  .toList()
              + " -->");
    }
    List<Long> sorted = new ArrayList<>(latencies);
    Collections.sort(sorted);
    report.add(
        String.format(
            "| %s | %d ms | %.0f | %.1f | %.1f | %d | %s |",
            grouped ? "on" : "off",
            latency,
            answered.sum() / (double) seconds,
            percentile(sorted, 0.50),
            percentile(sorted, 0.99),
            answered.sum(),
            new TreeMap<>(refused)));
  }

  static double percentile(List<Long> sorted, double p) {
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    return sorted.get((int) Math.min(sorted.size() - 1, Math.floor(p * sorted.size()))) / 1e6;
  }

  /** 1,000-document batches on one instance with 1 ms injected each way, each timed once. */
  void batches(ServiceProcess at, String prefix, boolean keep) {
    StringBuilder create = new StringBuilder("{\"writes\":[");
    StringBuilder retire = new StringBuilder("{\"writes\":[");
    for (int i = 0; i < 1000; i++) {
      String sep = i == 0 ? "" : ",";
      create
          .append(sep)
          .append("{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"")
          .append(prefix)
          .append('-')
          .append(i)
          .append("\",\"payload\":")
          .append(dropTable("b" + i, 1))
          .append('}');
      retire
          .append(sep)
          .append("{\"op\":\"retire\",\"kind\":\"DROP_TABLE\",\"id\":\"")
          .append(prefix)
          .append('-')
          .append(i)
          .append("\"}");
    }
    String createBody = create.append("]}").toString();
    String updateBody = createBody.replace("\"weight\": 1,", "\"weight\": 2,");
    String key = prefix + "-key";
    timed(at, keep, "create", createBody);
    timed(at, keep, "re-push (no-op)", createBody);
    timed(at, keep, "update with Idempotency-Key", updateBody, "Idempotency-Key", key);
    timed(at, keep, "replay of that key", updateBody, "Idempotency-Key", key);
    timed(at, keep, "retire", retire.append("]}").toString());
  }

  void timed(ServiceProcess at, boolean keep, String what, String body, String... headers) {
    long start = System.nanoTime();
    Http.Response r = at.rest.post("/api/v1/batches", body, headers);
    if (keep) {
      report.add(
          String.format("| %s | %d | %.0f |", what, r.status(), (System.nanoTime() - start) / 1e6));
    }
  }
}
