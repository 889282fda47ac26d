package com.veltrix.config.faults;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The fault-injection suite of issue 4: the service under steady mixed load (8 readers, 4 writers,
 * REST and gRPC) while its database goes through a leader transition, an outage, a restart, a late
 * start and write contention. Between the service and PostgreSQL sits a {@link FaultProxy};
 * PostgreSQL itself is stopped and started on the same port and data directory. Each scenario
 * prints its figures and ends with the {@link Checker}. Timing bounds here are the feature under
 * test (p99.9 under 300 ms, fail fast under 50 ms, recover within 2 s).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultInjectionTest {

  static final String STABLE_FOR = "2s";
  static final long STABLE_FOR_MILLIS = 2000;

  Path dataDirectory;
  int postgresPort = FreePort.find();
  EmbeddedPostgres postgres;
  FaultProxy proxy;
  ServiceUnderTest service;
  JdbcClient db;

  @BeforeAll
  void start() throws IOException, InterruptedException {
    dataDirectory = Files.createTempDirectory("veltrix-faults");
    startPostgres();
    proxy = new FaultProxy(postgresPort);
    service = new ServiceUnderTest(url(proxy.port(), "postgres"), STABLE_FOR);
    PGSimpleDataSource direct = new PGSimpleDataSource();
    direct.setUrl(url(postgresPort, "postgres"));
    direct.setUser("postgres");
    db = JdbcClient.create(direct);
    awaitReadiness(service, "UP", 15_000);
    Load warmUp = new Load(service, "warm", 8, 4); // JIT, pools and channels, as traffic would
    Thread.sleep(3000);
    warmUp.stop();
  }

  @AfterAll
  void stop() throws IOException {
    service.close();
    proxy.close();
    postgres.close();
  }

  void startPostgres() throws IOException {
    postgres =
        EmbeddedPostgres.builder()
            .setPort(postgresPort)
            .setDataDirectory(dataDirectory)
            .setCleanDataDirectory(false)
            .start();
  }

  static String url(int port, String database) {
    return "jdbc:postgresql://localhost:" + port + "/" + database;
  }

  @Test
  @Order(1)
  void a_leaderTransitionsAreInvisibleToClients() throws Exception {
    Load load = new Load(service, "a", 8, 4);
    double retriesBefore = service.meter("veltrix.db.retries", "outcome", "retried");
    Thread.sleep(1000);
    List<Long> cuts = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      cuts.add(System.nanoTime());
      proxy.cut();
      Thread.sleep(150);
      proxy.restore();
      Thread.sleep(1000);
    }
    load.stop();

    Figures figures = Figures.of(load.calls);
    double retries = service.meter("veltrix.db.retries", "outcome", "retried") - retriesBefore;
    report(
        "a leader transition (2 x 150 ms cut)", figures + String.format(" retries=%.0f", retries));
    for (Load.Call c : List.copyOf(load.calls)) {
      if (c.latencyNanos() > TimeUnit.MILLISECONDS.toNanos(250) || !c.ok()) {
        long sinceCut =
            cuts.stream()
                .mapToLong(t -> c.startNanos() - t)
                .filter(d -> d > -2_000_000_000L)
                .min()
                .orElse(0);
        System.out.printf(
            "FAULTS   slow %s started %+d ms after a cut, took %d ms, %s%n",
            c.what(),
            TimeUnit.NANOSECONDS.toMillis(sinceCut),
            TimeUnit.NANOSECONDS.toMillis(c.latencyNanos()),
            c.ok() ? "ok" : c.failure());
      }
    }
    assertThat(figures.errors()).as("client-visible errors").isZero();
    assertThat(figures.p999()).as("p99.9 ms").isLessThan(300);
    assertThat(retries).as("the cuts were retried").isPositive();
    Checker.check(db, load);
  }

  @Test
  @Order(2)
  void b_anOutageFailsFastAndRecoversWithoutRestart() throws Exception {
    outage("b outage (10 s blackhole)", proxy::blackhole, proxy::restore, 10_000);
  }

  @Test
  @Order(3)
  void c_aDatabaseRestartFailsFastAndRecoversWithoutRestart() throws Exception {
    outage(
        "c database restart (stop, 5 s, start)",
        () -> postgres.close(),
        this::startPostgres,
        5_000);
  }

  interface Step {
    void run() throws IOException;
  }

  void outage(String name, Step fail, Step recover, long outageMillis) throws Exception {
    Load load = new Load(service, name.substring(0, 1), 8, 4);
    Thread.sleep(1000);
    fail.run();
    long t0 = System.nanoTime(); // the database is down from here (a stop takes a moment)
    long readinessDown = -1;
    boolean alwaysLive = true;
    while (System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(outageMillis)) {
      if (readinessDown < 0 && !"UP".equals(service.readiness())) {
        readinessDown = millisSince(t0);
      }
      alwaysLive &= "UP".equals(service.liveness());
      Thread.sleep(100);
    }
    long restoredAt = System.nanoTime();
    recover.run();
    long readyAgain = -1;
    while (millisSince(restoredAt) < STABLE_FOR_MILLIS + 8000) {
      alwaysLive &= "UP".equals(service.liveness());
      if ("UP".equals(service.readiness())) {
        readyAgain = millisSince(restoredAt);
        break;
      }
      Thread.sleep(50);
    }
    Thread.sleep(500);
    load.stop();

    List<Load.Call> calls = List.copyOf(load.calls);
    long firstFastFailure =
        calls.stream()
            .filter(c -> c.fastFailure() && c.startNanos() >= t0)
            .mapToLong(c -> TimeUnit.NANOSECONDS.toMillis(c.startNanos() + c.latencyNanos() - t0))
            .min()
            .orElse(-1);
    List<Load.Call> lateFailures =
        calls.stream()
            .filter(
                c ->
                    !c.ok()
                        && c.startNanos() >= t0 + TimeUnit.SECONDS.toNanos(2)
                        && c.startNanos() < restoredAt)
            .toList();
    double fastShare =
        lateFailures.isEmpty()
            ? 0
            : lateFailures.stream().filter(Load.Call::fastFailure).count()
                / (double) lateFailures.size();
    long firstSuccessAfterRestore =
        calls.stream()
            .filter(c -> c.ok() && c.startNanos() >= restoredAt)
            .mapToLong(
                c -> TimeUnit.NANOSECONDS.toMillis(c.startNanos() + c.latencyNanos() - restoredAt))
            .min()
            .orElse(-1);
    report(
        name,
        Figures.of(calls)
            + String.format(
                " firstFastFailure=%dms fastShareAfter2s=%.1f%% readinessDown=%dms"
                    + " firstSuccessAfterRestore=%dms readyAfterRestore=%dms",
                firstFastFailure,
                fastShare * 100,
                readinessDown,
                firstSuccessAfterRestore,
                readyAgain));
    assertThat(alwaysLive).as("liveness UP throughout").isTrue();
    assertThat(firstFastFailure)
        .as("first fail-fast (<50 ms) answer, ms after the fault")
        .isBetween(0L, 2000L);
    assertThat(fastShare).as("share of failures after 2 s that failed fast").isGreaterThan(0.9);
    assertThat(readinessDown).as("readiness DOWN, ms after the fault").isBetween(0L, 2000L);
    assertThat(firstSuccessAfterRestore).as("first success, ms after restore").isBetween(0L, 2000L);
    assertThat(readyAgain)
        .as("readiness UP, ms after restore")
        .isBetween(STABLE_FOR_MILLIS, STABLE_FOR_MILLIS + 4000);
    assertThat(calls.stream().filter(c -> !c.ok()).map(Load.Call::failure).distinct())
        .as("failures are 503 with Retry-After or UNAVAILABLE / DEADLINE_EXCEEDED")
        .allMatch(f -> f.equals("503") || f.equals("UNAVAILABLE") || f.equals("DEADLINE_EXCEEDED"));
    Checker.check(db, load);
  }

  @Test
  @Order(4)
  void d_startsWithoutTheDatabaseAndMigratesWhenItAppears() throws Exception {
    db.sql("CREATE DATABASE late_start").update();
    try (FaultProxy late = new FaultProxy(postgresPort)) {
      late.cut();
      long started = System.nanoTime();
      try (ServiceUnderTest fresh =
          new ServiceUnderTest(url(late.port(), "late_start"), STABLE_FOR)) {
        long startupMillis = millisSince(started);
        boolean liveAndNotReady = true;
        while (millisSince(started) < 10_000) {
          liveAndNotReady &= "UP".equals(fresh.liveness()) && !"UP".equals(fresh.readiness());
          Thread.sleep(200);
        }
        assertThat(fresh.rest.get("/api/v1/revision").status()).isEqualTo(503);
        long restored = System.nanoTime();
        late.restore();
        awaitReadiness(fresh, "UP", STABLE_FOR_MILLIS + 8000);
        long readyMillis = millisSince(restored);
        int migrations =
            JdbcClient.create(dataSource("late_start"))
                .sql("SELECT count(*) FROM flyway_schema_history WHERE success")
                .query(Integer.class)
                .single();
        Http.Response revision = fresh.rest.get("/api/v1/revision");
        report(
            "d start with the database down (10 s)",
            String.format(
                "startup=%dms liveAndNotReadyWhileDown=%s migrations=%d readyAfterRestore=%dms",
                startupMillis, liveAndNotReady, migrations, readyMillis));
        assertThat(liveAndNotReady).isTrue();
        assertThat(migrations).isGreaterThanOrEqualTo(8);
        assertThat(readyMillis).isBetween(STABLE_FOR_MILLIS, STABLE_FOR_MILLIS + 4000);
        assertThat(revision.status()).isEqualTo(200);
      }
    }
  }

  @Test
  @Order(5)
  void e_contentionFromTwoPodsIsRetriedAndLosesNoUpdate() throws Exception {
    try (ServiceUnderTest second =
        new ServiceUnderTest(url(proxy.port(), "postgres"), STABLE_FOR)) {
      List<ServiceUnderTest> pods = List.of(service, second);
      for (int d = 0; d < 4; d++) {
        service.rest.put("/api/v1/drop-tables/e-counter-" + d, dropTable("count", 1));
      }
      double retriesBefore =
          service.meter("veltrix.db.retries", "outcome", "retried")
              + second.meter("veltrix.db.retries", "outcome", "retried");
      ExecutorService writers = Executors.newFixedThreadPool(16);
      List<Future<int[]>> results = new ArrayList<>();
      for (int w = 0; w < 16; w++) {
        Http http = pods.get(w % 2).rest;
        String doc = "/api/v1/drop-tables/e-counter-" + (w % 4);
        results.add(writers.submit(() -> increment(http, doc, 15)));
      }
      int[] done = new int[4];
      int conflicts = 0;
      for (int w = 0; w < 16; w++) {
        int[] r = results.get(w).get(2, TimeUnit.MINUTES);
        done[w % 4] += r[0];
        conflicts += r[1];
      }
      writers.shutdown();
      double retries =
          service.meter("veltrix.db.retries", "outcome", "retried")
              + second.meter("veltrix.db.retries", "outcome", "retried")
              - retriesBefore;
      report(
          "e contention (16 writers, 4 documents, 2 pods)",
          String.format(
              "increments=%d 412s=%d serializationRetries=%.0f",
              done[0] + done[1] + done[2] + done[3], conflicts, retries));
      for (int d = 0; d < 4; d++) {
        JsonNode counter = service.rest.get("/api/v1/drop-tables/e-counter-" + d).json();
        assertThat(counter.get("payload").get("entries").get(0).get("weight").asInt())
            .as("counter " + d + " lost no update")
            .isEqualTo(1 + done[d]);
        assertThat(counter.get("version").asLong()).isEqualTo(1 + done[d]);
      }
      assertThat(retries).as("40001s occurred and were retried").isPositive();
    }
  }

  /** Compare-and-set increments; returns {successes, 412s}. */
  static int[] increment(Http http, String doc, int times) {
    int done = 0;
    int conflicts = 0;
    while (done < times) {
      JsonNode current = http.get(doc).json();
      int weight = current.get("payload").get("entries").get(0).get("weight").asInt();
      Http.Response r =
          http.put(
              doc,
              dropTable("count", weight + 1),
              "If-Match",
              "\"" + current.get("version").asLong() + "\"");
      if (r.status() == 412) {
        conflicts++;
      } else {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        done++;
      }
    }
    return new int[] {done, conflicts};
  }

  PGSimpleDataSource dataSource(String database) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(url(postgresPort, database));
    ds.setUser("postgres");
    return ds;
  }

  static void awaitReadiness(ServiceUnderTest s, String status, long timeoutMillis)
      throws InterruptedException {
    long start = System.nanoTime();
    while (!status.equals(s.readiness())) {
      assertThat(millisSince(start))
          .as("readiness " + status + " in time")
          .isLessThan(timeoutMillis);
      Thread.sleep(50);
    }
  }

  static long millisSince(long nanoTime) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanoTime);
  }

  static void report(String scenario, String figures) {
    System.out.println("FAULTS " + scenario + ": " + figures);
  }
}
