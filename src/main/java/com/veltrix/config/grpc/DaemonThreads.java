package com.veltrix.config.grpc;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** Small scheduled pools of daemon threads for the adapter's background work. */
final class DaemonThreads {

  private DaemonThreads() {}

  static ScheduledExecutorService scheduled(String name, int threads) {
    return Executors.newScheduledThreadPool(
        threads,
        r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        });
  }
}
