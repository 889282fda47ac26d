package com.veltrix.config;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** Small scheduled pools of daemon threads for background work (probes, passes, pollers). */
public final class DaemonThreads {

  private DaemonThreads() {}

  public static ScheduledExecutorService scheduled(String name, int threads) {
    return Executors.newScheduledThreadPool(
        threads,
        r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        });
  }
}
