package com.veltrix.config.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.function.Predicate;

/**
 * The CPU time each process of the benchmark had used at one moment, from the kernel's accounting
 * ({@link ProcessHandle.Info#totalCpuDuration()}): two of them bracket a measured window and say
 * where its CPU went, per operation. On two cores the service, PostgreSQL, etcd and the clients
 * compete for the same CPU, so a system's throughput is bounded by what each of its operations
 * costs all of them together. Of the processes that end inside the window (a PostgreSQL backend
 * whose connection the pool closed) only this JVM's own children (wrk) are counted; processes that
 * start inside it count from their start.
 */
public record CpuTime(Map<Long, Used> byPid) {

  /** One process's group and the CPU time it had used. */
  public record Used(String group, Duration cpu) {}

  private record Group(String name, Predicate<ProcessHandle> member) {}

  private static final long SELF = ProcessHandle.current().pid();

  /** Stands for this JVM's ended children, which have no process of their own any more. */
  private static final long ENDED_CHILDREN = -1;

  private static final List<Group> GROUPS =
      List.of(
          new Group(
              "veltrix", p -> p.pid() != SELF && arguments(p).contains("VeltrixConfigApplication")),
          new Group("postgres", p -> command(p).endsWith("/postgres")),
          new Group("etcd", p -> command(p).endsWith("/etcd")),
          new Group("clients (this JVM)", p -> p.pid() == SELF),
          // the kernel's memory monitor, where a virtual machine runs one (Machine.memoryMonitor):
          // on two cores its bursts take a core from all of the above
          new Group("kdamond", p -> name(p).startsWith("kdamond")));

  public static CpuTime now() {
    Map<Long, Used> used = new LinkedHashMap<>();
    ProcessHandle.allProcesses()
        .forEach(
            p ->
                GROUPS.stream()
                    .filter(g -> g.member().test(p))
                    .findFirst()
                    .ifPresent(
                        g ->
                            used.put(
                                p.pid(),
                                new Used(
                                    g.name(), p.info().totalCpuDuration().orElse(Duration.ZERO)))));
    used.put(ENDED_CHILDREN, new Used("wrk", endedChildren()));
    return new CpuTime(used);
  }

  /**
   * CPU time of this JVM's children that have ended (wrk runs; the others run for the whole
   * benchmark): the kernel's cutime + cstime, fields 16 and 17 of /proc/self/stat, in clock ticks
   * of 10 ms (USER_HZ is 100 on Linux).
   */
  private static Duration endedChildren() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // fields[0] is field 3 (state), so field n is fields[n - 3]
      long ticks = Long.parseLong(fields[13]) + Long.parseLong(fields[14]);
      return Duration.ofMillis(ticks * 10);
    } catch (IOException | RuntimeException e) {
      return Duration.ZERO;
    }
  }

  /**
   * CPU milliseconds per operation of each process group that used any between {@code this} and
   * {@code later}, e.g. {@code "veltrix 0.410, postgres 0.220, clients (this JVM) 0.190"}.
   */
  public String perOperation(CpuTime later, long operations) {
    if (operations == 0) {
      return "no operations measured";
    }
    // per process, so that a PostgreSQL backend replaced inside the window (a connection the
    // pool closed) neither takes its whole history with it nor brings its predecessor's
    Map<String, Duration> byGroup = new LinkedHashMap<>();
    GROUPS.forEach(g -> byGroup.put(g.name(), Duration.ZERO));
    later.byPid.forEach(
        (pid, used) -> {
          Used before = byPid.get(pid);
          Duration spent = before == null ? used.cpu() : used.cpu().minus(before.cpu());
          byGroup.merge(used.group(), spent, Duration::plus);
        });
    StringJoiner out = new StringJoiner(", ");
    double total = 0;
    for (var entry : byGroup.entrySet()) {
      double ms = entry.getValue().toNanos() / 1e6 / operations;
      // three decimals: an ingested document costs each process 0.005-0.06 ms
      if (ms >= 0.0005) {
        out.add(String.format(Locale.ROOT, "%s %.3f", entry.getKey(), ms));
        total += ms;
      }
    }
    return String.format(Locale.ROOT, "%.3f ms (%s)", total, out);
  }

  /** The process's name as the kernel has it (a kernel thread has no command). */
  private static String name(ProcessHandle p) {
    try {
      return Files.readString(Path.of("/proc", p.pid() + "", "comm")).trim();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static String command(ProcessHandle p) {
    return p.info().command().orElse("");
  }

  /** The whole command line: {@link ProcessHandle.Info#arguments()} is empty for a long one. */
  private static String arguments(ProcessHandle p) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", p.pid() + "", "cmdline")));
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
