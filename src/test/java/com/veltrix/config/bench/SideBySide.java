package com.veltrix.config.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.VeltrixConfigApplication;
import com.veltrix.config.support.ChildJvm;
import com.veltrix.config.support.EmbeddedDatabases;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Tokens;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The harness: starts a real PostgreSQL, the service in a JVM of its own on it, and etcd 3.4 on
 * loopback; runs every workload against both, alternating which goes first; writes {@code
 * results.json} and {@code results.md}. etcd is taken from the PATH (Debian's {@code etcd-server});
 * without it only the veltrix side runs and the report says so.
 */
final class SideBySide implements AutoCloseable {

  /** The service's heap limit: the cold-load target is "heap ≤ 512 MiB". */
  static final String SERVICE_HEAP = "-Xmx512m";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final BenchSize size;
  private final Path dir;
  private final Map<String, Object> environment = new LinkedHashMap<>();
  private final List<AutoCloseable> started = new ArrayList<>();
  private final int managementPort = FreePort.find();
  private final VeltrixStore veltrix;
  private final Store etcd;
  private final Wrk wrk;

  SideBySide(BenchSize size, Path dir) {
    this.size = size;
    this.dir = dir;
    // the service, PostgreSQL and etcd are processes of their own: stop them however this JVM ends
    Runtime.getRuntime().addShutdownHook(new Thread(this::close, "bench-servers-stop"));
    try {
      Files.createDirectories(dir);
      environment.put("size", size.name());
      environment.put("documents", size.documents());
      environment.putAll(Machine.describe());
      veltrix = startVeltrix(startPostgres());
      etcd = startEtcd().orElse(null);
      Optional<Path> wrkBinary = onPath(System.getProperty("bench.wrk", "wrk"));
      wrk = wrkBinary.map(b -> new Wrk(b, size, dir)).orElse(null);
      environment.put(
          "wrk",
          wrkBinary
              .map(b -> Machine.firstLine(b.toString(), "-v"))
              .orElse("not run: no wrk on the PATH (apt-get install wrk)"));
    } catch (IOException | SQLException | RuntimeException e) {
      close();
      throw new IllegalStateException("could not start the benchmark's servers", e);
    }
  }

  /**
   * Runs every workload on both systems {@code runs} times (the warm-up once), alternating which
   * system goes first from one run to the next; returns the measurements in the order taken.
   */
  List<Measured> run() {
    Workloads workloads = new Workloads(size);
    int runs = Integer.getInteger("bench.runs", size.runs());
    environment.put("runs", runs);
    List<Measured> results = new ArrayList<>();
    VeltrixStore veltrixRest = veltrix.overRest();
    List<Store> readers = List.of(veltrix, veltrixRest);
    Map<String, BiFunction<Boolean, Integer, List<Measured>>> steps = new LinkedHashMap<>();
    // Before run 1 a first pass creates the documents, on its own row: on a service just started,
    // whose JIT has compiled little of the write path (its CPU a document 1.5-3 times a warm
    // one's). The measured runs rewrite them with new content, as a pod that has been up a while
    // does; the reads are measured after warm-ups as well.
    AtomicLong generation = new AtomicLong();
    steps.put(
        "ingest",
        (first, run) -> {
          List<Measured> measured = new ArrayList<>();
          if (run == 1) {
            long created = generation.getAndIncrement();
            measured.addAll(
                both(
                    first,
                    List.of(veltrix),
                    s -> workloads.ingest(s, Workloads.INGEST_FIRST, 1, created)));
          }
          long g = generation.getAndIncrement();
          measured.addAll(
              both(first, List.of(veltrix), s -> workloads.ingest(s, Workloads.INGEST, 1, g)));
          return measured;
        });
    steps.put("warmup", (first, run) -> both(first, readers, workloads::warmup));
    steps.put("read", (first, run) -> both(first, readers, workloads::pointRead));
    // wrk's point reads: the REST side against etcd's JSON gateway
    steps.put(
        "wrk",
        (first, run) ->
            wrk == null ? List.of() : both(first, List.of(veltrixRest), wrk::pointRead));
    steps.put(
        "cold",
        (first, run) -> both(first, List.of(veltrix), s -> workloads.coldLoad(s, heapFor(s))));
    steps.put("watch", (first, run) -> both(first, List.of(veltrix), s -> workloads.watch(s, run)));
    steps.put("mixed", (first, run) -> both(first, List.of(veltrix), workloads::mixed));
    // the ingest with four batches in flight (one batch's validation overlaps another's commit),
    // last: the history it adds (100,000 versions a run) would change what the reads above measure
    steps.put(
        "ingest4",
        (first, run) -> {
          long g = generation.getAndIncrement();
          return both(
              first, List.of(veltrix), s -> workloads.ingest(s, Workloads.INGEST_IN_FLIGHT, 4, g));
        });
    // -Dbench.workloads=ingest,read runs a subset while profiling (the reads need the ingest);
    // the unreported warm-up always runs, once
    List<String> selected =
        List.of(System.getProperty("bench.workloads", String.join(",", steps.keySet())).split(","));
    boolean veltrixFirst = true;
    for (var step : steps.entrySet()) {
      boolean warmup = step.getKey().equals("warmup");
      if (!selected.contains(step.getKey()) && !warmup) {
        continue;
      }
      for (int run = 1; run <= (warmup ? 1 : runs); run++) {
        List<Measured> measured = step.getValue().apply(veltrixFirst, run);
        if (!warmup) {
          for (Measured m : measured) {
            results.add(m.asRun(run));
          }
        }
        veltrixFirst = !veltrixFirst;
      }
    }
    return results;
  }

  private List<Measured> both(
      boolean veltrixFirst, List<Store> veltrixSides, Function<Store, Measured> workload) {
    List<Store> order = new ArrayList<>(veltrixSides);
    if (etcd != null) {
      order.add(veltrixFirst ? order.size() : 0, etcd);
    }
    List<Measured> measured = new ArrayList<>();
    for (Store store : order) {
      // The 32 clients saturate both cores: the service sheds load by failing calls past their
      // deadline, which may leave its circuit breaker open for a second. Each run starts after it.
      ChildProcess.sleep(size.settle().toMillis());
      Measured m = workload.apply(store);
      System.out.println("bench " + Report.row(m, m.notes().toString()));
      measured.add(m);
    }
    return measured;
  }

  Map<String, Object> environment() {
    return environment;
  }

  private LongSupplier heapFor(Store store) {
    return store == etcd ? () -> 0 : this::serviceHeapUsed;
  }

  private long serviceHeapUsed() {
    String url =
        "http://127.0.0.1:" + managementPort + "/actuator/metrics/jvm.memory.used?tag=area:heap";
    try {
      HttpResponse<byte[]> response =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url))
                  .header("Authorization", "Bearer " + Tokens.admin())
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      JsonNode body = JSON.readTree(response.body());
      return body.path("measurements").path(0).path("value").asLong();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * PostgreSQL with durable commits, like etcd's fsync per commit. zonky starts PostgreSQL with
   * {@code -F} (fsync off) and {@code synchronous_commit=off}; the {@code -c} settings come after
   * {@code -F} on the command line, so they win. The environment records what the server reports.
   */
  private String startPostgres() throws IOException, SQLException {
    EmbeddedPostgres postgres =
        EmbeddedDatabases.builder()
            .setDataDirectory(dir.resolve("pgdata"))
            .setCleanDataDirectory(true)
            .setServerConfig("fsync", "on")
            .setServerConfig("synchronous_commit", "on")
            .setServerConfig("max_connections", "100")
            .start();
    started.add(postgres);
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        var rs =
            c.createStatement()
                .executeQuery(
                    "SELECT current_setting('server_version'), current_setting('fsync'),"
                        + " current_setting('synchronous_commit')")) {
      rs.next();
      if (!"on".equals(rs.getString(2)) || !"on".equals(rs.getString(3))) {
        throw new IllegalStateException(
            "PostgreSQL commits are not durable: fsync="
                + rs.getString(2)
                + ", synchronous_commit="
                + rs.getString(3));
      }
      environment.put(
          "postgresql", rs.getString(1) + " (embedded, fsync=on, synchronous_commit=on)");
    }
    return postgres.getJdbcUrl("postgres", "postgres");
  }

  private VeltrixStore startVeltrix(String jdbcUrl) {
    int restPort = FreePort.find();
    int grpcPort = FreePort.find();
    // -Dbench.service-java=/usr/lib/jvm/java-17-openjdk-amd64/bin/java runs the service on another
    // JDK (without the options ChildJvm adds for JDK 24 and later)
    String other = System.getProperty("bench.service-java");
    List<String> command = other == null ? ChildJvm.java() : new ArrayList<>(List.of(other));
    String java = command.get(0);
    command.add(SERVICE_HEAP);
    // e.g. -Dbench.service-jvm-args="-XX:StartFlightRecording=filename=target/bench/v.jfr"
    List<String> extra = ChildJvm.optionsFrom("bench.service-jvm-args");
    command.addAll(extra);
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            VeltrixConfigApplication.class.getName(),
            "--spring.datasource.url=" + jdbcUrl,
            "--spring.datasource.username=postgres",
            "--spring.datasource.password=",
            "--server.port=" + restPort,
            "--management.server.port=" + managementPort,
            "--grpc.server.port=" + grpcPort,
            "--veltrix.readiness.stable-for=1s",
            // the class path carries the tests' configuration, which turns the cache of versions
            // off; the service is measured as it ships (application.yaml's default)
            "--veltrix.cache.versions.max-size=64MB",
            "--spring.main.banner-mode=off"));
    ChildProcess service =
        ChildProcess.start("veltrix-config", command, dir.resolve("veltrix.log"));
    started.add(service);
    service.awaitReady(
        "http://127.0.0.1:" + managementPort + "/actuator/health/readiness",
        body -> body.contains("\"UP\""),
        Duration.ofSeconds(90));
    environment.put(
        "veltrix",
        "this checkout, JVM "
            + SERVICE_HEAP
            + (extra.isEmpty() ? "" : " " + String.join(" ", extra))
            + ", default pool (8), on "
            + Machine.firstLine(java, "-version"));
    VeltrixStore store = new VeltrixStore(grpcPort, restPort);
    started.add(store);
    return store;
  }

  private Optional<Store> startEtcd() {
    Optional<Path> binary = onPath(System.getProperty("bench.etcd", "etcd"));
    if (binary.isEmpty()) {
      environment.put("etcd", "not run: no etcd on the PATH (apt-get install etcd-server)");
      return Optional.empty();
    }
    int client = FreePort.find();
    int peer = FreePort.find();
    String clientUrl = "http://127.0.0.1:" + client;
    String peerUrl = "http://127.0.0.1:" + peer;
    Path data = dir.resolve("etcd-data");
    deleteTree(data);
    ChildProcess process =
        ChildProcess.start(
            "etcd",
            List.of(
                binary.get().toString(),
                "--name=bench",
                "--data-dir=" + data,
                "--listen-client-urls=" + clientUrl,
                "--advertise-client-urls=" + clientUrl,
                "--listen-peer-urls=" + peerUrl,
                "--initial-advertise-peer-urls=" + peerUrl,
                "--initial-cluster=bench=" + peerUrl,
                // a txn holds 128 operations by default; the ingest writes 500 at a time
                "--max-txn-ops=1000",
                "--quota-backend-bytes=8589934592",
                "--log-level=warn",
                "--logger=zap"),
            dir.resolve("etcd.log"));
    started.add(process);
    process.awaitReady(
        clientUrl + "/health", body -> body.contains("true"), Duration.ofSeconds(30));
    environment.put(
        "etcd",
        Machine.firstLine(binary.get().toString(), "--version")
            + " (single member, loopback, default fsync, --max-txn-ops=1000)");
    EtcdStore store = new EtcdStore(clientUrl);
    started.add(store);
    return Optional.of(store);
  }

  private static Optional<Path> onPath(String command) {
    if (command.contains(File.separator)) {
      return Optional.of(Path.of(command)).filter(Files::isExecutable);
    }
    for (String entry : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(entry, command);
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Keeps the service's metrics as they stand at the end ({@code veltrix-prometheus.txt}): its own
   * histograms (write queue and transaction, gRPC and HTTP server times) say where the time of a
   * client-side figure went. Best effort: a service that never started has none.
   */
  private void saveServiceMetrics() {
    String url = "http://127.0.0.1:" + managementPort + "/actuator/prometheus";
    try {
      HTTP.send(
          HttpRequest.newBuilder(URI.create(url))
              .header("Authorization", "Bearer " + Tokens.admin())
              .timeout(Duration.ofSeconds(5))
              .build(),
          HttpResponse.BodyHandlers.ofFile(dir.resolve("veltrix-prometheus.txt")));
    } catch (IOException e) {
      // no service to ask
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public synchronized void close() {
    if (!started.isEmpty()) {
      saveServiceMetrics();
    }
    for (int i = started.size() - 1; i >= 0; i--) {
      try {
        started.get(i).close();
      } catch (Exception e) {
        // keep stopping the others
      }
    }
    started.clear();
  }
}
