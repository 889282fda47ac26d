package com.veltrix.config.support;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * A free TCP port, for servers whose port must be known before they start. Taken below Linux's
 * ephemeral range (32768-60999), where the kernel also picks the local port of every outgoing
 * connection: a port found free there can be taken by a JDBC or HTTP client before the server binds
 * it (CI saw "Address already in use" on 49710). Never the same port twice in one JVM.
 */
public final class FreePort {

  private static final int LOW = 20_000;
  private static final int HIGH = 32_000;
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  private FreePort() {}

  public static int find() {
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOW, HIGH);
      if (HANDED_OUT.contains(port)) {
        continue;
      }
      try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("0.0.0.0"))) {
        socket.setReuseAddress(true);
        if (HANDED_OUT.add(port)) {
          return port;
        }
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IllegalStateException("no free port between " + LOW + " and " + HIGH);
  }

  /** Gives {@code property} one free port for the whole context (the supplier is re-read). */
  public static void register(DynamicPropertyRegistry registry, String property) {
    int port = find();
    registry.add(property, () -> port);
  }
}
