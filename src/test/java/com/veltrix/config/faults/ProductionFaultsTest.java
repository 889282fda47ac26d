package com.veltrix.config.faults;

import static com.veltrix.config.faults.ServerHistograms.DOCUMENT;
import static com.veltrix.config.faults.ServerHistograms.GROUP_TRANSACTION;
import static com.veltrix.config.faults.ServerHistograms.REQUESTS;
import static com.veltrix.config.faults.ServerHistograms.WRITE_QUEUE;
import static com.veltrix.config.support.Payloads.dropTable;
import static com.veltrix.config.support.Payloads.treasureLocation;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.veltrix.config.grpc.v1.ConfigKind;
import com.veltrix.config.grpc.v1.ConfigRef;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.support.EmbeddedDatabases;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Tokens;
import io.grpc.StatusRuntimeException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The production topology in one JVM and one child process: three instances of the service (two
 * in-process, one in a JVM of its own so it can be SIGKILLed) share one real PostgreSQL through
 * fault proxies that add 1 ms each way (a cross-zone round trip). REST readers and writers and gRPC
 * watchers run on all of them while the database loses its leader, one of its three nodes is lost
 * without a word, a session is orphaned holding the revision row, the network blackholes, the
 * database restarts, an instance dies mid-batch, and a careless client sends 2 ms deadlines. After
 * each scenario the {@link Checker} reads the database: every acknowledged write stored once at its
 * version, versions gap-free, no stale read; and every watcher has seen every revision exactly
 * once, in order.
 *
 * <p>The instances use {@code prepareThreshold=0} so that the proxy can see the revision-row
 * statement on every execution (its half-open trap). Timing bounds here are the features under
 * test: p99.9, fail fast, resume, readiness.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProductionFaultsTest {

  static final String STABLE_FOR = "2s";
  static final long STABLE_FOR_MILLIS = 2000;
  static final long FAIL_AFTER_MILLIS = 3000; // the default of veltrix.readiness.fail-after
  static final int POOL = 8; // spring.datasource.hikari.maximum-pool-size

  /**
   * The load: 8 readers and 4 writers pausing 20 ms, the issue's 400 calls a second where the
   * machine has the CPU for it (406-471 on a 2-core VM, 2026-12-06). Each client waits for its
   * answer, so a slower machine makes fewer calls instead of queueing them: 205-349 calls a second
   * in a cgroup allowed 0.7-0.83 of a CPU, the earlier CI machines' speed, green there too. The
   * lighter load of before: {@code -Dfaults.readers=3 -Dfaults.writers=3 -Dfaults.pause=35}. The
   * README's "Its load" has the figures.
   */
  static final int READERS = Integer.getInteger("faults.readers", 8);

  static final int WRITERS = Integer.getInteger("faults.writers", 4);
  static final Map<String, Object> SETTINGS =
      Map.of("veltrix.grpc.watch-progress-interval", "500ms");

  Path dataDirectory;
  final int postgresPort = FreePort.find();
  EmbeddedPostgres postgres;
  FaultProxy proxy;
  FaultProxy childProxy;
  ServiceUnderTest a;
  ServiceUnderTest b;
  ServiceProcess c;
  JdbcClient db;
  Watchers watchers;

  @BeforeAll
  void start() throws Exception {
    HEADLINES.clear();
    dataDirectory = Files.createTempDirectory("veltrix-topology");
    Files.deleteIfExists(PostgresLog.FILE); // this run's lines only
    startPostgres();
    proxy = new FaultProxy(postgresPort, 1);
    childProxy = new FaultProxy(postgresPort, 1);
    c = new ServiceProcess("c", url(childProxy.port(), "postgres"), STABLE_FOR, SETTINGS);
    a = new ServiceUnderTest("a", url(proxy.port(), "postgres"), STABLE_FOR, SETTINGS);
    b = new ServiceUnderTest("b", url(proxy.port(), "postgres"), STABLE_FOR, SETTINGS);
    PGSimpleDataSource direct = new PGSimpleDataSource();
    direct.setUrl(url(postgresPort, "postgres"));
    direct.setUser("postgres");
    db = JdbcClient.create(direct);
    for (Instance i : all()) {
      awaitReadiness(i, "UP", 90_000);
    }
    // JIT, pools and channels, as traffic would: three services in two JVMs on two cores compile
    // for tens of seconds; measured before that, every call waits behind the compilers
    MachineCpu cpu = MachineCpu.now(c.handle());
    Load warmUp = new Load(all(), "warm", READERS, WRITERS);
    Thread.sleep(Long.getLong("faults.warmup", 20_000));
    warmUp.stop();
    warmUpPerSecond = warmUp.perSecond();
    report(
        "warm-up",
        Figures.of(warmUp.calls) + warmUp.rate() + MachineCpu.now(c.handle()).since(cpu));
    Supplier<Instance> cOrElseA = () -> c.alive() ? c : a;
    watchers = new Watchers(List.of(() -> a, () -> b, cOrElseA), revision());
  }

  private long logMark;

  @BeforeEach
  void markPostgresLog() {
    logMark = PostgresLog.mark();
  }

  @AfterEach
  void reportPostgresLog(TestInfo test) {
    report("  PostgreSQL log of " + test.getDisplayName(), PostgresLog.since(logMark));
  }

  @AfterAll
  void stop() throws IOException {
    System.out.println("FAULTS summary of " + READERS + " readers and " + WRITERS + " writers:");
    HEADLINES.forEach(System.out::println);
    watchers.close();
    c.close();
    a.close();
    b.close();
    proxy.close();
    childProxy.close();
    postgres.close();
  }

  List<Instance> all() {
    return c.alive() ? List.of(a, b, c) : List.of(a, b);
  }

  void startPostgres() throws IOException {
    postgres =
        PostgresLog.into(EmbeddedDatabases.builder())
            .setPort(postgresPort)
            .setDataDirectory(dataDirectory)
            .setCleanDataDirectory(false)
            .setServerConfig("max_connections", "200")
            .start();
  }

  static String url(int port, String database) {
    return "jdbc:postgresql://localhost:" + port + "/" + database + "?prepareThreshold=0";
  }

  /** The time of day as the instances' logs print it. */
  static LocalTime utcNow() {
    return LocalTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MILLIS);
  }

  long revision() {
    return db.sql("SELECT revision FROM revision_counter WHERE id = 1").query(Long.class).single();
  }

  @Test
  @Order(1)
  void a_leaderTransitionsAreInvisibleToClientsOnEveryInstance() throws Exception {
    MachineCpu cpu = MachineCpu.now(c.handle());
    double retriesBefore = retries();
    double rebasedBefore = rebased();
    String aBefore = a.prometheus();
    String cBefore = c.prometheus();
    Load load = new Load(all(), "a", READERS, WRITERS);
    Readiness readiness = new Readiness(all());
    Thread.sleep(1000);
    List<Long> cuts = new ArrayList<>();
    List<String> cutsUtc = new ArrayList<>(); // to find them in the instances' logs
    for (int i = 0; i < 2; i++) {
      LocalTime from = utcNow();
      cuts.add(System.nanoTime());
      proxy.cut();
      childProxy.cut();
      Thread.sleep(150);
      proxy.restore();
      childProxy.restore();
      cutsUtc.add(from + "-" + utcNow());
      Thread.sleep(1500);
    }
    load.stop();
    readiness.stop();

    Figures figures = Figures.of(load.calls);
    cutFigures = figures;
    report(
        "a two 150 ms cuts, 3 instances",
        figures
            + load.rate()
            + MachineCpu.now(c.handle()).since(cpu)
            + String.format(" retriesOnAandB=%.0f", retries() - retriesBefore)
            + String.format(" rebasedOnAandB=%.0f", rebased() - rebasedBefore)
            + String.format(
                " slowestResetAfterCut=%d/%dms",
                proxy.slowestResetMillis(), childProxy.slowestResetMillis())
            + " cutsUtc="
            + cutsUtc
            + readiness
            + Figures.byKind(load.calls)
            + " server@a"
            + serverSide(aBefore, a.prometheus())
            + " server@c"
            + serverSide(cBefore, c.prometheus()));
    assertAbsorbedCuts(load, cuts);
    assertThat(readiness.downs).as("readiness DOWN on any instance").isEmpty();
    Checker.check(db, load);
    watchers.check(db, revision());
  }

  /**
   * The calls a second the warm-up made: what this machine sustains of the load, without faults.
   */
  private double warmUpPerSecond;

  /** Scenario a's figures, for {@link #a1_atTheIssuesLoadTwoCutsCostNoErrorAndAP999Under300Ms}. */
  private Figures cutFigures;

  /**
   * The production-fault issue's bound for two 150 ms cuts at its 400 calls a second: 0
   * client-visible errors and p99.9 under 300 ms. Scenario a's own assertions allow a REST 503 that
   * overlapped a cut on any machine; this holds it to the issue's bound where the warm-up showed
   * that the machine sustains the load. On a slower one the closed loop makes fewer calls and the
   * CPU's run queue decides the slowest of them (README, "Its load": at 0.7 of a CPU, 1-2 REST 503s
   * and p99.9 309-540 ms), and this check is skipped, saying so, rather than passed.
   */
  @Test
  @Order(2)
  void a1_atTheIssuesLoadTwoCutsCostNoErrorAndAP999Under300Ms() {
    assumeTrue(cutFigures != null, "scenario a did not run");
    boolean sustained = warmUpPerSecond >= 400;
    report(
        "a1 the issue's bound for two cuts, 0 errors and p99.9 under 300 ms",
        String.format(
            "%s (the warm-up made %.0f calls a second)",
            sustained ? "checked" : "skipped", warmUpPerSecond));
    assumeTrue(
        sustained,
        () ->
            String.format(
                "the warm-up made %.0f calls a second, under the issue's 400: this machine does not"
                    + " sustain the load the bound is for",
                warmUpPerSecond));
    assertThat(cutFigures.errors()).as("client-visible errors in two cuts").isZero();
    assertThat(cutFigures.p999()).as("p99.9 ms of every call in two cuts").isLessThan(300);
  }

  /**
   * A leader transition as CockroachDB has them: the connections survive, and nothing answers for
   * 150 ms until the new leaseholder serves (a cut, above, is the harsher case: the gateway node
   * itself lost). Every call in flight is only late: no read and no gRPC call fails, a REST write
   * only if it met a stall (see {@link #STALL_MILLIS}), reads' p99.9 stays under 300 ms, and no
   * instance's readiness goes DOWN.
   *
   * <p>The stalls repeat every 1.65 s until the load has made {@link #PERCENTILE_CALLS} calls, so
   * that p99.9 is a percentile: with two stalls (about 400 calls) it was the slowest call, and one
   * write that was slow already when a stall began (CI, 2026-12-03: 406 ms) failed the run. About
   * one call in eleven meets a stall here, far more than in production, where a leader moves once
   * in minutes.
   */
  @Test
  @Order(3)
  void a2_aLeaderTransitionThatStallsTheDatabaseIsOnlyLateForClients() throws Exception {
    MachineCpu cpu = MachineCpu.now(c.handle());
    double rebasedBefore = rebased();
    Load load = new Load(all(), "a2", READERS, WRITERS);
    Readiness readiness = new Readiness(all());
    Thread.sleep(1000);
    List<Long> stalls = new ArrayList<>();
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
    while (load.calls.size() < PERCENTILE_CALLS && System.nanoTime() < giveUp) {
      stalls.add(System.nanoTime());
      proxy.stall((int) STALL_MILLIS);
      childProxy.stall((int) STALL_MILLIS);
      Thread.sleep(1650);
    }
    load.stop();
    readiness.stop();

    report(
        "a2 " + stalls.size() + " stalls of " + STALL_MILLIS + " ms, 3 instances",
        Figures.of(load.calls)
            + load.rate()
            + MachineCpu.now(c.handle()).since(cpu)
            + String.format(" rebasedOnAandB=%.0f", rebased() - rebasedBefore)
            + readiness
            + Figures.byKind(load.calls));
    assertAbsorbedStalls(load, stalls);
    assertThat(readiness.downs).as("readiness DOWN on any instance").isEmpty();
    Checker.check(db, load);
    watchers.check(db, revision());
  }

  /** How long a database node stays lost in scenario a3. */
  static final long NODE_LOST_MILLIS = Long.getLong("faults.node-lost", 15_000);

  /**
   * One of three database nodes lost without a word (a zone down, as {@link FaultProxy#loseNode()}
   * has it): a third of every pod's connections go silent, and a third of the connections opened
   * meanwhile land on the lost node and hang, as they do behind a Kubernetes Service until the
   * node's endpoints are removed (tens of seconds). The other two nodes answer throughout. A gRPC
   * call whose connection went silent gives up on it 150 ms before its 1 s deadline and tries once
   * more on another ({@code DeadlineDataSource.RETRY_RESERVE_MILLIS}): no gRPC call fails (before,
   * 3 of 4 runs had one out of its deadline). A REST call keeps its whole 250 ms (lock waits may
   * use it) and may fail with a retryable 503 (1-2 a run, near the loss); the breaker and readiness
   * do not move. What this stand-in cannot show: on CockroachDB the ranges whose leaseholder was on
   * the lost node stall every connection until their leases move (seconds; docs/decisions.md).
   */
  @Test
  @Order(4)
  void a3_oneOfThreeDatabaseNodesLostWithoutAWord() throws Exception {
    MachineCpu cpu = MachineCpu.now(c.handle());
    String aBefore = a.prometheus();
    String cBefore = c.prometheus();
    Load load = new Load(all(), "a3", READERS, WRITERS);
    Readiness readiness = new Readiness(all());
    Thread.sleep(1000);
    long lostAt = System.nanoTime();
    LocalTime from = utcNow();
    proxy.loseNode();
    childProxy.loseNode();
    Map<String, Long> breakerOpen = new ConcurrentHashMap<>();
    while (millisSince(lostAt) < NODE_LOST_MILLIS) {
      for (ServiceUnderTest at : List.of(a, b)) {
        if (!"CLOSED".equals(at.breaker())) {
          breakerOpen.merge(at.name, 1L, Long::sum);
        }
      }
      Thread.sleep(100);
    }
    restore();
    String lostUtc = from + "-" + utcNow();
    Thread.sleep(2000);
    load.stop();
    readiness.stop();

    List<Load.Call> calls = List.copyOf(load.calls);
    List<Long> lost = List.of(lostAt);
    report(
        "a3 one of three database nodes lost for " + NODE_LOST_MILLIS + " ms",
        Figures.of(calls)
            + load.rate()
            + MachineCpu.now(c.handle()).since(cpu)
            + " lostUtc="
            + lostUtc
            + " breakerNotClosedSamplesOnAandB="
            + breakerOpen
            + readiness
            + Figures.byKind(calls)
            + " server@a"
            + serverSide(aBefore, a.prometheus())
            + " server@c"
            + serverSide(cBefore, c.prometheus()));
    // a REST call may meet a connection of the lost node whenever the pool first lends it out
    assertAbsorbed(load, lost, NODE_LOST_MILLIS + FAULT_RECOVERY_MS, "lost node");
    assertThat(breakerOpen).as("breaker left CLOSED on a and b").isEmpty();
    assertThat(readiness.downs).as("readiness DOWN on any instance").isEmpty();
    Checker.check(db, load);
    watchers.check(db, revision());
  }

  /**
   * With a fault: gRPC calls (reads and writes, with the client's 1 s deadline) see no error. REST
   * calls have the 250 ms request budget; right after a cut has reset every pooled connection (the
   * pool reopens them one at a time) some of them run out of it on two busy cores: a REST failure
   * must be retryable (503 with Retry-After) and must have overlapped a fault: been in flight at
   * the cut or started within {@link #FAULT_RECOVERY_MS} after it. The pool refills its connections
   * one at a time; on two cores at ~87 % CPU one REST write that started more than 400 ms after a
   * cut was refused in about one run in ten, and one that started 334 ms before a cut was still in
   * flight at it (the rule was "started from 250 ms before to 400 ms after"). Latencies under a cut
   * are reported, not asserted: across eight runs the slowest gRPC call during two cuts took
   * 203-329 ms at 77-89 % CPU, against the issue's 300 ms. Where the machine sustains the issue's
   * load, {@link #a1_atTheIssuesLoadTwoCutsCostNoErrorAndAP999Under300Ms} holds the cuts to the
   * issue's bound (no error, p99.9 under 300 ms).
   */
  static final long FAULT_RECOVERY_MS = 1000;

  /**
   * A stall keeps every connection: no read fails, and the design's bound holds for them: reads of
   * the current configuration, p99.9 under 300 ms. Writes are reported beside them: a write that
   * meets a stall waits for it and then for the group commit that was stalled with it, so a REST
   * write that met one (in flight when it began, or started while it lasted) may run out of its 250
   * ms budget on busy cores, with a retryable 503 (CI, 2026-12-03: one such write had been in
   * flight 145 ms when the stall began, at 69 calls/s and 76 % CPU).
   */
  static final long STALL_MILLIS = Long.getLong("faults.stall", 150);

  /** Calls enough for p99.9 to be the third slowest, not the slowest. */
  static final int PERCENTILE_CALLS = 2001;

  static void assertAbsorbedCuts(Load load, List<Long> cuts) {
    assertAbsorbed(load, cuts, FAULT_RECOVERY_MS, "cut");
  }

  static void assertAbsorbedStalls(Load load, List<Long> stalls) {
    assertAbsorbed(load, stalls, STALL_MILLIS, "stall");
    Figures reads = Figures.of(load.calls.stream().filter(x -> x.what().contains("Read")).toList());
    assertThat(reads.errors()).as("client-visible errors of reads").isZero();
    Figures writes =
        Figures.of(load.calls.stream().filter(x -> x.what().contains("Write")).toList());
    report("  reads", reads + " | writes: " + writes);
    assertThat(reads.p999())
        .as("p99.9 ms of reads (%s)", Figures.slowest(load.calls, 5, stalls))
        .isLessThan(300);
  }

  /**
   * No gRPC call fails and no client throws; a REST call fails only with a retryable 503 and only
   * if it overlapped one of {@code faults}: in flight at its start or started within {@code
   * recoveryMillis} after it.
   */
  private static void assertAbsorbed(
      Load load, List<Long> faults, long recoveryMillis, String fault) {
    List<Load.Call> calls = List.copyOf(load.calls);
    report("  " + Figures.slowest(calls, 5, faults), "");
    report("  " + Figures.failed(calls, faults), "");
    Figures grpc = Figures.of(calls.stream().filter(x -> x.what().startsWith("grpc")).toList());
    Figures answered = Figures.of(calls.stream().filter(Load.Call::ok).toList());
    Figures rest = Figures.of(calls.stream().filter(x -> x.what().startsWith("rest")).toList());
    report("  gRPC calls", grpc + " | REST calls: " + rest + " | answered: " + answered);
    assertThat(grpc.errors()).as("client-visible errors of gRPC calls").isZero();
    assertThat(calls.stream().filter(x -> x.what().equals("client")).toList())
        .as("calls whose client threw instead of answering (counted as neither gRPC nor REST)")
        .isEmpty();
    long recovery = TimeUnit.MILLISECONDS.toNanos(recoveryMillis);
    for (Load.Call x : calls) {
      if (x.what().startsWith("rest") && !x.ok()) {
        assertThat(x.failure()).as("a REST call refused retryably").isEqualTo("503");
        long start = x.startNanos();
        long end = start + x.latencyNanos();
        assertThat(faults.stream().anyMatch(f -> start <= f + recovery && end >= f))
            .as(
                "%s failed only when it overlapped a %s (it started %d ms from the nearest"
                    + " and took %d ms)",
                x.what(),
                fault,
                faults.stream()
                    .mapToLong(f -> TimeUnit.NANOSECONDS.toMillis(start - f))
                    .reduce((a, b) -> Math.abs(a) <= Math.abs(b) ? a : b)
                    .orElse(Long.MAX_VALUE),
                TimeUnit.NANOSECONDS.toMillis(x.latencyNanos()))
            .isTrue();
      }
    }
  }

  @Test
  @Order(5)
  void b_aCarelessClientDoesNotOpenTheBreakerForEveryone() throws Exception {
    Load load = new Load(all(), "b", READERS, WRITERS);
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger careless = new AtomicInteger();
    Map<String, Boolean> opened = new ConcurrentHashMap<>();
    Thread client =
        new Thread(
            () -> {
              while (running.get()) {
                for (ServiceUnderTest at : List.of(a, b)) {
                  try {
                    ConfigServiceGrpc.newBlockingStub(at.channel)
                        .withCallCredentials(Tokens.bearer(Tokens.admin()))
                        .withDeadlineAfter(2, TimeUnit.MILLISECONDS)
                        .getConfigs(
                            GetConfigsRequest.newBuilder()
                                .addRefs(
                                    ConfigRef.newBuilder()
                                        .setKind(ConfigKind.CONFIG_KIND_DROP_TABLE)
                                        .setId(load.doc(0)))
                                .build());
                  } catch (StatusRuntimeException e) {
                    careless.incrementAndGet();
                  }
                  if (!"CLOSED".equals(at.breaker())) {
                    opened.put(at.name, true);
                  }
                }
                sleep(40); // 2 × 25 calls a second
              }
            });
    client.start();
    Thread.sleep(6000);
    running.set(false);
    client.join();
    load.stop();

    Figures figures = Figures.of(load.calls);
    report(
        "b careless client (2 ms deadlines, 50/s)",
        figures + load.rate() + " carelessFailures=" + careless + " breakerOpened=" + opened);
    assertThat(careless.get()).as("the careless client's calls did fail").isPositive();
    assertThat(opened).as("breaker left CLOSED on every instance").isEmpty();
    // the careless client's own failures aside: gRPC clients see no error, answered calls are not
    // slowed (p99 under 300 ms; 88-122 ms measured), and a REST call refused (in 1 of 6 runs one
    // REST write, its 250 ms budget spent queued on a busy CPU) is a retryable 503 and is counted.
    // The p99.9 is reported, not asserted: with no fault at ~85 % CPU the slowest of ~600 calls
    // measures the run queue of two cores (153-250 ms in most runs, 316 ms in one CI run)
    List<Load.Call> calls = List.copyOf(load.calls);
    assertThat(
            Figures.of(calls.stream().filter(x -> x.what().startsWith("grpc")).toList()).errors())
        .as("client-visible errors of gRPC calls")
        .isZero();
    assertThat(Figures.of(calls.stream().filter(Load.Call::ok).toList()).p99())
        .as("p99 ms of answered calls")
        .isLessThan(300);
    assertThat(calls.stream().filter(x -> !x.ok()).map(Load.Call::failure))
        .as("REST refusals are retryable")
        .allMatch("503"::equals);
    Checker.check(db, load);
    watchers.check(db, revision());
  }

  @Test
  @Order(6)
  void c_anOrphanedSessionHoldingTheRevisionRowStallsWritesForSecondsOnly() throws Exception {
    Load load = new Load(all(), "c", READERS, WRITERS);
    assertThat(a.rest.put("/api/v1/drop-tables/orphan-dt", dropTable("orphan", 1)).status())
        .isIn(200, 201);
    Thread.sleep(1000);
    CompletableFuture<Void> orphaned = proxy.halfOpenAfterRevisionRow();
    // A write sends COMMIT with the statement that takes the row unless it has references to
    // insert after it: the load's drop tables commit in one round trip, so a treasure location
    // (which references its drop table) is what leaves the row held mid-transaction. Its own call
    // is the orphan's victim and fails.
    CompletableFuture.runAsync(
        () ->
            a.rest.put(
                "/api/v1/treasure-locations/orphan-tl", treasureLocation("zone-a", "orphan-dt")));
    orphaned.get(10, TimeUnit.SECONDS);
    long t0 = System.nanoTime();
    int peak = 0;
    long orphanSeenUntil = -1;
    while (millisSince(t0) < 7000) {
      peak = Math.max(peak, clientConnections());
      if (idleInTransactionHoldingTheRevisionRow() > 0) {
        orphanSeenUntil = millisSince(t0); // the database still sees the orphan, silent, in its tx
      }
      Thread.sleep(100);
    }
    load.stop();

    List<Load.Call> calls = List.copyOf(load.calls);
    StringBuilder resumed = new StringBuilder();
    for (Instance i : all()) {
      long resume =
          calls.stream()
              .filter(
                  x ->
                      x.ok() && x.what().startsWith("rest")
                          || x.ok() && x.what().startsWith("grpc"))
              .filter(x -> x.what().contains("Write@" + i.name) && x.startNanos() >= t0)
              .mapToLong(x -> TimeUnit.NANOSECONDS.toMillis(x.startNanos() + x.latencyNanos() - t0))
              .min()
              .orElse(-1);
      resumed.append(' ').append(i.name).append('=').append(resume).append("ms");
      assertThat(resume)
          .as("writes on " + i.name + " resume within 5 s of the orphan")
          .isBetween(0L, 5000L);
    }
    long reads = calls.stream().filter(x -> x.what().contains("Read@")).count();
    long readsOk = calls.stream().filter(x -> x.what().contains("Read@") && x.ok()).count();
    // the pools, the probes, this test and the orphan; and per instance one writer's backend that
    // may still wait out its lock wait (at most 200 ms) after its client gave up
    int bound = 3 * POOL + 3 + 2 + 3;
    report(
        "c orphaned session holding the revision row",
        Figures.of(calls)
            + load.rate()
            + String.format(
                " writesResumed:%s orphanHeldTheRowFor=%dms readsOk=%.2f%% connectionPeak=%d"
                    + " (bound %d)",
                resumed, orphanSeenUntil, 100.0 * readsOk / reads, peak, bound));
    assertThat(orphanSeenUntil)
        .as("the database saw the orphan idle in its transaction (no FIN reached it)")
        .isGreaterThan(1000);
    assertThat(readsOk)
        .as("reads keep answering (99 %)")
        .isGreaterThanOrEqualTo((long) Math.ceil(reads * 0.99));
    assertThat(peak).as("database connections").isLessThanOrEqualTo(bound);
    Checker.check(db, load);
    watchers.check(db, revision());
  }

  @Test
  @Order(7)
  void d_aBlackholeFailsFastAndRecoversWithoutRestart() throws Exception {
    outage("d 10 s blackhole", this::blackhole, this::restore, 10_000);
  }

  @Test
  @Order(8)
  void e_aDatabaseRestartFailsFastAndRecoversWithoutRestart() throws Exception {
    outage(
        "e database restart (stop, 5 s, start)",
        () -> postgres.close(),
        this::startPostgres,
        5_000);
  }

  @Test
  @Order(9)
  void f_anInstanceKilledMidBatchLeavesNoneOfItAndItsRetryAppliesOnce() throws Exception {
    Load load = new Load(List.of(a, b), "f", READERS, WRITERS);
    Thread.sleep(1000);
    StringBuilder body = new StringBuilder("{\"writes\":[");
    for (int i = 0; i < 1000; i++) {
      body.append(i == 0 ? "" : ",")
          .append("{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"killed-")
          .append(i)
          .append("\",\"payload\":")
          .append(dropTable("k" + i, 1))
          .append('}');
    }
    String batch = body.append("]}").toString();
    CompletableFuture<Integer> frozen = childProxy.freezeAtRevisionRow();
    HttpClient.newHttpClient().sendAsync(post(c, batch), HttpResponse.BodyHandlers.ofString());
    int session = frozen.get(20, TimeUnit.SECONDS);
    // the batch's session as the database sees it the moment before the kill: in a transaction,
    // waiting for the rest of the append; with a transaction id once its first statement has
    // locked (or is waiting to lock) the revision row. The proxy has handed the piece that begins
    // it to the socket; the backend may not have read it yet on busy cores (CI, 2026-12-03: no
    // transaction at the first look), so it is looked for until it shows, for at most 5 s
    Map<String, Object> killedSession = Map.of("state", "no transaction", "locking", false);
    long lookUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < lookUntil) {
      List<Map<String, Object>> rows =
          db.sql(
                  """
                  SELECT state, backend_xid IS NOT NULL AS locking
                    FROM pg_stat_activity WHERE client_port = ? AND xact_start IS NOT NULL
                  """)
              .param(session)
              .query()
              .listOfRows();
      if (!rows.isEmpty()) {
        killedSession = rows.get(0);
        break;
      }
      Thread.sleep(5);
    }
    String killedIn = (String) killedSession.get("state");
    c.kill(); // SIGKILL while its transaction is open
    long t0 = System.nanoTime();
    Thread.sleep(5000);
    load.stop();

    long stored = countKilled();
    long sessionLeft =
        db.sql("SELECT count(*) FROM pg_stat_activity WHERE client_port = ?")
            .param(session)
            .query(Long.class)
            .single();
    HttpResponse<String> retried =
        HttpClient.newHttpClient().send(post(a, batch), HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> replayed =
        HttpClient.newHttpClient().send(post(b, batch), HttpResponse.BodyHandlers.ofString());
    long maxGap = maxGapBetweenWrites(load, t0);
    report(
        "f instance SIGKILLed mid-batch",
        Figures.of(load.calls)
            + load.rate()
            + " killedIn='"
            + killedIn
            + "' rowTakenAtKill="
            + killedSession.get("locking")
            + " storedAfterKill="
            + stored
            + " retry="
            + retried.statusCode()
            + " replay="
            + replayed.statusCode()
            + " longestWriteGapAfterKill="
            + maxGap
            + "ms watcherReconnects="
            + watchers.reconnects());
    assertThat(killedIn)
        .as("the kill lands while the batch's transaction is open")
        .isIn("active", "idle in transaction");
    assertThat(stored).as("the killed pod's open transaction rolled back: none of it").isZero();
    assertThat(sessionLeft).as("the killed pod's session is gone from the database").isZero();
    assertThat(retried.statusCode()).as(retried.body()).isIn(200, 201);
    assertThat(replayed.body()).isEqualTo(retried.body());
    assertThat(countKilled()).isEqualTo(1000);
    assertThat(
            db.sql(
                    "SELECT count(DISTINCT revision) FROM document_versions WHERE id LIKE 'killed-%'")
                .query(Long.class)
                .single())
        .as("applied once, at one revision")
        .isEqualTo(1);
    assertThat(maxGap).as("the others keep writing").isLessThan(5000);
    Checker.check(db, load);
    watchers.check(db, revision());
  }

  @Test
  @Order(10)
  void g_startsWhileTheDatabaseAcceptsButDoesNotAnswer() throws Exception {
    db.sql("CREATE DATABASE late_start").update();
    try (FaultProxy late = new FaultProxy(postgresPort, 1)) {
      late.blackhole();
      long started = System.nanoTime();
      try (ServiceUnderTest fresh =
          new ServiceUnderTest("late", url(late.port(), "late_start"), STABLE_FOR, SETTINGS)) {
        long startupMillis = millisSince(started);
        boolean liveAndNotReady = true;
        while (millisSince(started) < 30_000) {
          liveAndNotReady &= "UP".equals(fresh.liveness()) && !"UP".equals(fresh.readiness());
          Thread.sleep(250);
        }
        int refused = fresh.rest.get("/api/v1/revision").status();
        long restored = System.nanoTime();
        late.restore();
        awaitReadiness(fresh, "UP", STABLE_FOR_MILLIS + 10_000);
        long readyMillis = millisSince(restored);
        report(
            "g start while the database accepts but does not answer (30 s)",
            String.format(
                "startup=%dms liveAndNotReadyWhileSilent=%s answerWhileSilent=%d readyAfterRestore=%dms",
                startupMillis, liveAndNotReady, refused, readyMillis));
        assertThat(startupMillis).as("the pod starts").isLessThan(25_000);
        assertThat(liveAndNotReady).isTrue();
        assertThat(refused).isEqualTo(503);
        assertThat(readyMillis).isBetween(STABLE_FOR_MILLIS, STABLE_FOR_MILLIS + 8000);
        assertThat(fresh.rest.get("/api/v1/revision").status()).isEqualTo(200);
      }
    }
  }

  interface Step {
    void run() throws IOException;
  }

  void blackhole() {
    proxy.blackhole();
    childProxy.blackhole();
  }

  void restore() {
    proxy.restore();
    childProxy.restore();
  }

  void outage(String name, Step fail, Step recover, long outageMillis) throws Exception {
    List<Instance> instances = all();
    Load load = new Load(instances, name.substring(0, 1), READERS, WRITERS);
    Thread.sleep(1000);
    // The fault starts when its step starts: stopping PostgreSQL takes a few hundred ms, and a
    // probe can fail inside it, so a t0 taken after the step made readiness look early.
    long t0 = System.nanoTime();
    fail.run();
    Map<String, Long> down = new ConcurrentHashMap<>();
    boolean alwaysLive = true;
    while (millisSince(t0) < outageMillis) {
      for (Instance i : instances) {
        if (!down.containsKey(i.name) && !"UP".equals(i.readiness())) {
          down.put(i.name, millisSince(t0));
        }
        alwaysLive &= "UP".equals(i.liveness());
      }
      Thread.sleep(100);
    }
    long restoredAt = System.nanoTime();
    recover.run();
    Map<String, Long> ready = new ConcurrentHashMap<>();
    while (ready.size() < instances.size()
        && millisSince(restoredAt) < STABLE_FOR_MILLIS + 10_000) {
      for (Instance i : instances) {
        alwaysLive &= "UP".equals(i.liveness());
        if (!ready.containsKey(i.name) && "UP".equals(i.readiness())) {
          ready.put(i.name, millisSince(restoredAt));
        }
      }
      Thread.sleep(50);
    }
    Thread.sleep(500);
    load.stop();

    List<Load.Call> calls = List.copyOf(load.calls);
    long firstFastFailure =
        calls.stream()
            .filter(x -> x.fastFailure() && x.startNanos() >= t0)
            .mapToLong(x -> TimeUnit.NANOSECONDS.toMillis(x.startNanos() + x.latencyNanos() - t0))
            .min()
            .orElse(-1);
    List<Load.Call> lateFailures =
        calls.stream()
            .filter(
                x ->
                    !x.ok()
                        && x.startNanos() >= t0 + TimeUnit.SECONDS.toNanos(2)
                        && x.startNanos() < restoredAt)
            .toList();
    double fastShare =
        lateFailures.isEmpty()
            ? 0
            : lateFailures.stream().filter(Load.Call::fastFailure).count()
                / (double) lateFailures.size();
    long firstSuccess =
        calls.stream()
            .filter(x -> x.ok() && x.startNanos() >= restoredAt)
            .mapToLong(
                x -> TimeUnit.NANOSECONDS.toMillis(x.startNanos() + x.latencyNanos() - restoredAt))
            .min()
            .orElse(-1);
    report(
        name,
        Figures.of(calls)
            + String.format(
                " firstFastFailure=%dms fastShareAfter2s=%.1f%% readinessDown=%s"
                    + " firstSuccessAfterRestore=%dms readyAfterRestore=%s",
                firstFastFailure, fastShare * 100, down, firstSuccess, ready));
    assertThat(alwaysLive).as("liveness UP throughout").isTrue();
    assertThat(firstFastFailure)
        .as("first fail-fast (<100 ms) answer, ms after the fault")
        .isBetween(0L, 2000L);
    assertThat(fastShare).as("share of failures after 2 s that failed fast").isGreaterThan(0.9);
    for (Instance i : instances) {
      assertThat(down.get(i.name))
          .as(i.name + " readiness DOWN, ms after the fault (fail-after is 3 s)")
          .isNotNull()
          .isBetween(FAIL_AFTER_MILLIS - 200, FAIL_AFTER_MILLIS + 2000);
      assertThat(ready.get(i.name))
          .as(i.name + " readiness UP, ms after restore")
          .isNotNull()
          .isBetween(STABLE_FOR_MILLIS, STABLE_FOR_MILLIS + 5000);
    }
    assertThat(firstSuccess).as("first success, ms after restore").isBetween(0L, 2000L);
    assertThat(calls.stream().filter(x -> !x.ok()).map(Load.Call::failure).distinct())
        .as("failures are 503 with Retry-After or UNAVAILABLE / DEADLINE_EXCEEDED")
        .allMatch(f -> f.equals("503") || f.equals("UNAVAILABLE") || f.equals("DEADLINE_EXCEEDED"));
    Checker.check(db, load);
    watchers.check(db, revision());
  }

  /** Transactions and reads run again on the two in-process instances. */
  double retries() {
    return a.meter("veltrix.db.retries", "outcome", "retried")
        + b.meter("veltrix.db.retries", "outcome", "retried");
  }

  /** Writes stored after a head another pod moved (instead of a retry), on a and b. */
  double rebased() {
    return a.meter("veltrix.writes.rebased") + b.meter("veltrix.writes.rebased");
  }

  long countKilled() {
    return db.sql("SELECT count(*) FROM documents WHERE id LIKE 'killed-%'")
        .query(Long.class)
        .single();
  }

  /**
   * Sessions idle in a transaction for over a second while holding a lock on the revision row: an
   * orphan (a live writer is idle between its statements for milliseconds).
   */
  int idleInTransactionHoldingTheRevisionRow() {
    return db.sql(
            """
            SELECT count(*) FROM pg_stat_activity a
              JOIN pg_locks l ON l.pid = a.pid
             WHERE a.state = 'idle in transaction'
               AND a.state_change < now() - INTERVAL '1 second'
               AND l.relation = 'revision_counter'::regclass
            """)
        .query(Integer.class)
        .single();
  }

  int clientConnections() {
    return db.sql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
        .query(Integer.class)
        .single();
  }

  static HttpRequest post(Instance at, String batch) {
    return HttpRequest.newBuilder(URI.create(at.rest.base() + "/api/v1/batches"))
        .timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + Tokens.admin())
        .header("Idempotency-Key", "killed-batch")
        .POST(HttpRequest.BodyPublishers.ofString(batch))
        .build();
  }

  /** The longest time, from {@code t0} on, without a successful write completing. */
  static long maxGapBetweenWrites(Load load, long t0) {
    List<Long> ends = new ArrayList<>();
    ends.add(t0);
    for (Load.Call x : List.copyOf(load.calls)) {
      long end = x.startNanos() + x.latencyNanos();
      if (x.ok() && x.what().contains("Write@") && end >= t0) {
        ends.add(end);
      }
    }
    ends.sort(Long::compare);
    long gap = 0;
    for (int i = 1; i < ends.size(); i++) {
      gap = Math.max(gap, ends.get(i) - ends.get(i - 1));
    }
    return TimeUnit.NANOSECONDS.toMillis(gap);
  }

  /**
   * Samples every instance's readiness every 100 ms (a DOWN lasts at least stable-for, 2 s);
   * records any answer but UP.
   */
  static final class Readiness {
    final List<String> downs = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private int samples;

    Readiness(List<Instance> instances) {
      thread =
          new Thread(
              () -> {
                while (running.get()) {
                  for (Instance i : instances) {
                    String status = i.readiness();
                    synchronized (downs) {
                      samples++;
                      if (!"UP".equals(status)) {
                        downs.add(i.name + ":" + status);
                      }
                    }
                  }
                  sleep(100);
                }
              });
      thread.start();
    }

    void stop() throws InterruptedException {
      running.set(false);
      thread.join();
    }

    @Override
    public String toString() {
      synchronized (downs) {
        return " readinessSamples=" + samples + " notUp=" + downs.size();
      }
    }
  }

  static void awaitReadiness(Instance s, String status, long timeoutMillis)
      throws InterruptedException {
    long start = System.nanoTime();
    while (!status.equals(s.readiness())) {
      assertThat(millisSince(start))
          .as(s.name + " readiness " + status + " in time")
          .isLessThan(timeoutMillis);
      Thread.sleep(50);
    }
  }

  static long millisSince(long nanoTime) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanoTime);
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The slowest of what an instance measured itself between two scrapes (the upper bound of the
   * histogram bucket it fell in, ms): its REST reads and writes of documents, how long writes
   * queued for a group, and its groups' transactions. Beside what the clients saw, it says whether
   * a slow call's time was spent in the service, and where.
   */
  private static String serverSide(String before, String after) {
    return String.format(
        "[GET %s, PUT %s, queued %s, group transaction %s]",
        ServerHistograms.quantiles(before, after, REQUESTS, List.of("method=\"GET\"", DOCUMENT), 1),
        ServerHistograms.quantiles(before, after, REQUESTS, List.of("method=\"PUT\"", DOCUMENT), 1),
        ServerHistograms.quantiles(before, after, WRITE_QUEUE, List.of(), 1),
        ServerHistograms.quantiles(before, after, GROUP_TRANSACTION, List.of(), 1));
  }

  /**
   * This run's scenario lines (not their indented details), without the figures per instance,
   * printed again together when the class ends ({@link #stop}) so the run's figures are in one
   * place at the end of a long build log.
   */
  private static final List<String> HEADLINES = new CopyOnWriteArrayList<>();

  private static final Pattern PER_INSTANCE =
      Pattern.compile(" (grpc|rest)(Read|Write)@\\w+\\[[^\\]]*\\]");

  static void report(String scenario, String figures) {
    String line = "FAULTS " + scenario + ": " + figures;
    System.out.println(line);
    if (!scenario.startsWith(" ")) {
      HEADLINES.add(PER_INSTANCE.matcher(line).replaceAll(""));
    }
  }
}
