package com.veltrix.config.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The machine's CPU use between two moments, from /proc/stat (Linux), for the suite's reports. */
final class MachineCpu {

  private final long busy;
  private final long steal;
  private final long total;
  private final long thisJvmNanos;
  private final long[] childNanos;
  private final long gcMillis;

  private MachineCpu(long busy, long steal, long total, long thisJvmNanos, long[] childNanos) {
    this.busy = busy;
    this.steal = steal;
    this.total = total;
    this.thisJvmNanos = thisJvmNanos;
    this.childNanos = childNanos;
    this.gcMillis = gcMillis();
  }

  /** The time this JVM's collectors spent (pauses and, for G1, its concurrent cycles) so far. */
  private static long gcMillis() {
    return java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
        .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime)
        .filter(t -> t > 0)
        .sum();
  }

  private static long cpuNanos(ProcessHandle process) {
    return process.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
  }

  /** Now, with the CPU time of this JVM and of the given child processes. */
  static MachineCpu now(ProcessHandle... children) {
    long[] child = new long[children.length];
    for (int i = 0; i < children.length; i++) {
      child[i] = cpuNanos(children[i]);
    }
    long self = cpuNanos(ProcessHandle.current());
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length; i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
      return new MachineCpu(total - idle, steal, total, self, child);
    } catch (IOException | RuntimeException e) {
      return new MachineCpu(0, 0, 0, self, child);
    }
  }

  /**
   * " cpuBusy=NN%" of the machine since {@code start} (with the host's steal, counted in it), the
   * time this JVM's collectors took, and the share of it used by this JVM and by each child (in %
   * of one core).
   */
  String since(MachineCpu start) {
    long t = total - start.total;
    if (t <= 0) {
      return "";
    }
    // /proc/stat counts in clock ticks (USER_HZ, 100 a second) over all cores
    double seconds = t / 100.0 / Runtime.getRuntime().availableProcessors();
    StringBuilder out =
        new StringBuilder(
            String.format(
                " cpuBusy=%.0f%% (stolen by the host %.0f%%)",
                100.0 * (busy - start.busy) / t, 100.0 * (steal - start.steal) / t));
    out.append(
        String.format(" thisJvm=%.0f%%", (thisJvmNanos - start.thisJvmNanos) / 1e7 / seconds));
    out.append(String.format(" gcThisJvm=%dms", gcMillis - start.gcMillis));
    for (int i = 0; i < childNanos.length && i < start.childNanos.length; i++) {
      out.append(
          String.format(
              " child%d=%.0f%%", i, (childNanos[i] - start.childNanos[i]) / 1e7 / seconds));
    }
    return out.toString();
  }
}
