package com.veltrix.config.faults;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP proxy between the service and its database that can fail on command:
 *
 * <ul>
 *   <li>{@link #cut()}: reset every connection and refuse new ones (a leader moving away);
 *   <li>{@link #blackhole()}: accept connections and never answer (a partition);
 *   <li>{@link #restore()}: forward again; connections held in the blackhole are reset.
 * </ul>
 */
final class FaultProxy implements AutoCloseable {

  enum Mode {
    PASS,
    CUT,
    BLACKHOLE
  }

  private final ServerSocket server;
  private final int targetPort;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private volatile Mode mode = Mode.PASS;
  private volatile boolean closed;

  FaultProxy(int targetPort) {
    this.targetPort = targetPort;
    try {
      this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Thread acceptor = new Thread(this::acceptLoop, "fault-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  synchronized void cut() {
    mode = Mode.CUT;
    resetAll();
  }

  synchronized void blackhole() {
    mode = Mode.BLACKHOLE;
  }

  synchronized void restore() {
    if (mode == Mode.BLACKHOLE) {
      resetAll(); // nothing would ever come back on them
    }
    mode = Mode.PASS;
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;
      }
      switch (mode) {
        case CUT -> reset(client);
        case BLACKHOLE -> sockets.add(client); // held open, never read, never answered
        case PASS -> connect(client);
      }
    }
  }

  private void connect(Socket client) {
    Socket upstream;
    try {
      upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
    } catch (IOException e) {
      reset(client); // the database itself is down: the client sees a refused connection
      return;
    }
    try {
      client.setTcpNoDelay(true); // as pgjdbc and PostgreSQL do: no Nagle delays in the path
      upstream.setTcpNoDelay(true);
    } catch (IOException e) {
      reset(client);
      reset(upstream);
      return;
    }
    sockets.add(client);
    sockets.add(upstream);
    pump(client, upstream);
    pump(upstream, client);
  }

  private void pump(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              byte[] buffer = new byte[16 * 1024];
              try (InputStream in = from.getInputStream()) {
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                  if (mode == Mode.BLACKHOLE) {
                    continue; // swallowed: the other side never hears back
                  }
                  out.write(buffer, 0, n);
                  out.flush();
                }
              } catch (IOException e) {
                // reset or closed: tear down the pair below
              }
              reset(from);
              reset(to);
            },
            "fault-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private void resetAll() {
    sockets.forEach(this::reset);
  }

  private void reset(Socket socket) {
    sockets.remove(socket);
    try {
      socket.setSoLinger(true, 0); // RST, not FIN: what a dead peer looks like
      socket.close();
    } catch (IOException e) {
      // already gone
    }
  }

  @Override
  public void close() {
    closed = true;
    resetAll();
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
