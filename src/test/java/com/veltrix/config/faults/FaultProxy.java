package com.veltrix.config.faults;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A loopback TCP proxy between the services and their database that behaves like a network across
 * zones and fails on command:
 *
 * <ul>
 *   <li>{@link #latency(int)}: deliver every byte this many milliseconds after it arrived, in each
 *       direction (1 ms each way by default: a cross-zone round trip). It is a link's latency, not
 *       a pause per piece: bytes read while earlier ones wait are on their way too, so a 500 KB
 *       statement arrives ~1 ms late, not 1 ms for each of the dozens of reads it takes;
 *   <li>{@link #stall(int)}: hold every byte in both directions for a while, then deliver it all: a
 *       leader transition as CockroachDB has them, where connections survive and nothing answers
 *       until the new leaseholder serves;
 *   <li>{@link #cut()}: reset every connection and refuse new ones (a leader moving away);
 *   <li>{@link #blackhole()}: accept connections and never answer (a partition);
 *   <li>{@link #halfOpenAfterRevisionRow()}: the next connection that takes the revision row
 *       ({@code UPDATE revision_counter ...}) in a statement that leaves its transaction open has
 *       its client side reset as soon as the database answers that statement, while its database
 *       side stays open and silent: what the database sees when a pod is killed or partitioned
 *       mid-transaction (no FIN ever arrives). A write sends COMMIT in the same round trip as the
 *       statement that takes the row, unless it has references to insert after it: only such a
 *       write can leave the row held while the database waits for its client. The services must use
 *       {@code prepareThreshold=0} so that pgjdbc sends the statement's text every time;
 *   <li>{@link #loseNode()}: one of the database's {@link #NODES} nodes is lost without a word (a
 *       zone down). Connections are spread over the nodes in turn as they are accepted, as a load
 *       balancer spreads them; those on the lost node go silent in both directions (no FIN, no
 *       reset), and new connections that land on it are accepted and never answered, while the
 *       others work on;
 *   <li>{@link #restore()}: forward again; connections held in the blackhole or on the lost node
 *       are reset.
 * </ul>
 *
 * It stands between a consumer and a service as well ({@code VanishedPeersTest}): its blackhole is
 * then a consumer, or the pod it watches, gone without a word. The blackhole keeps reading what it
 * swallows, so a sender never blocks on it, as it would on a peer that acknowledges nothing; for a
 * peer that takes no more bytes, that test uses a client socket that stops reading.
 */
final class FaultProxy implements AutoCloseable {

  private static final byte[] REVISION_ROW =
      "UPDATE revision_counter SET revision".getBytes(StandardCharsets.US_ASCII);

  /** The end of a Parse message whose statement is COMMIT (its text is NUL-terminated). */
  private static final byte[] COMMIT = "COMMIT\0".getBytes(StandardCharsets.US_ASCII);

  /** The database nodes connections are spread over ({@link #loseNode()}). */
  static final int NODES = 3;

  enum Mode {
    PASS,
    CUT,
    BLACKHOLE
  }

  private final ServerSocket server;
  private final int targetPort;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Set<Socket> orphans = ConcurrentHashMap.newKeySet();
  private volatile Mode mode = Mode.PASS;
  private volatile int latencyMillis;
  private volatile CompletableFuture<Void> halfOpen;
  private volatile CompletableFuture<Integer> freeze;
  private volatile boolean closed;

  /** When the last {@link #cut()} began, and how long after it the slowest client saw its reset. */
  private volatile long cutAtNanos;

  private final AtomicLong slowestResetNanos = new AtomicLong();
  private volatile long stalledUntilNanos = System.nanoTime();
  private final Set<Socket> cutOff = ConcurrentHashMap.newKeySet();
  private final AtomicLong accepted = new AtomicLong();
  private final Set<Pair> pairs = ConcurrentHashMap.newKeySet();

  /** The node that is lost, or -1; connections accepted on it while lost are held here. */
  private volatile int lostNode = -1;

  private final Set<Socket> heldByLostNode = ConcurrentHashMap.newKeySet();

  FaultProxy(int targetPort) {
    this(targetPort, 0);
  }

  FaultProxy(int targetPort, int latencyMillis) {
    this.targetPort = targetPort;
    this.latencyMillis = latencyMillis;
    try {
      this.server = new ServerSocket(0, 500, InetAddress.getLoopbackAddress());
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

  void latency(int millis) {
    latencyMillis = millis;
  }

  /** From now, nothing is delivered in either direction for {@code millis}, then all of it. */
  void stall(int millis) {
    stalledUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
  }

  synchronized void cut() {
    cutAtNanos = System.nanoTime();
    mode = Mode.CUT;
    cutOff.addAll(sockets);
    resetAll();
  }

  /**
   * The longest a client connection stayed open after a {@link #cut()} began, since the last ask.
   * Closing a socket that a pump is blocked reading sends the reset only once that pump's thread
   * runs again (the blocked read holds the socket): on busy cores the cut reaches some services
   * late, and lasts longer for them than it was asked to.
   */
  long slowestResetMillis() {
    return TimeUnit.NANOSECONDS.toMillis(slowestResetNanos.getAndSet(0));
  }

  synchronized void blackhole() {
    mode = Mode.BLACKHOLE;
  }

  /** Loses node 0 of {@link #NODES}: its connections, and new ones that land on it, go silent. */
  synchronized void loseNode() {
    lostNode = 0;
  }

  synchronized void restore() {
    if (mode == Mode.BLACKHOLE) {
      resetAll(); // nothing would ever come back on them
    }
    int lost = lostNode;
    lostNode = -1;
    if (lost >= 0) { // the node is back: it knows nothing of the connections it had
      for (Pair pair : pairs) {
        if (pair.node == lost) {
          reset(pair.client);
          reset(pair.upstream);
        }
      }
      heldByLostNode.forEach(this::reset);
      heldByLostNode.clear();
    }
    mode = Mode.PASS;
  }

  /** Arms the half-open trap; the future completes when a connection has been orphaned. */
  CompletableFuture<Void> halfOpenAfterRevisionRow() {
    CompletableFuture<Void> trap = new CompletableFuture<>();
    halfOpen = trap;
    return trap;
  }

  /**
   * Freezes the next connection that sends the statement that advances the revision: the piece that
   * carries the statement's start reaches the database, then nothing more from that client does
   * (the database's answers still flow back). The database has begun the transaction (BEGIN, the
   * SETs and the {@code SELECT ... FOR UPDATE} of the revision row sent ahead of the statement in
   * the same round trip have run: the session holds the row, or waits for it) and waits for the
   * rest of a statement that can now never run: the state of a pod killed while sending a
   * 1,000-document batch, with no race against the statement's own outcome (a retry). The future's
   * value is the local port of the connection's database side: its session's {@code client_port} in
   * {@code pg_stat_activity}.
   */
  CompletableFuture<Integer> freezeAtRevisionRow() {
    CompletableFuture<Integer> notice = new CompletableFuture<>();
    freeze = notice;
    return notice;
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;
      }
      int node = (int) (accepted.getAndIncrement() % NODES);
      switch (mode) {
        case CUT -> reset(client);
        case BLACKHOLE -> sockets.add(client); // held open, never read, never answered
        // the database side is connected on a thread of its own: a network opens many connections
        // at once, and one slow connect on busy cores must not hold up the next accept
        case PASS -> {
          if (node == lostNode) {
            heldByLostNode.add(client); // as silent as the node
          } else {
            start(() -> connect(client, node));
          }
        }
      }
    }
  }

  private void connect(Socket client, int node) {
    Socket upstream;
    try {
      upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
      client.setTcpNoDelay(true); // as pgjdbc and PostgreSQL do: no Nagle delays in the path
      upstream.setTcpNoDelay(true);
    } catch (IOException e) {
      reset(client); // the database itself is down: the client sees a refused connection
      return;
    }
    synchronized (this) {
      if (mode == Mode.CUT || closed) { // cut (or closed) while connecting: cut with the others
        reset(client);
        reset(upstream);
        return;
      }
      sockets.add(client);
      sockets.add(upstream);
    }
    Pair pair = new Pair(client, upstream, node);
    pairs.add(pair);
    start(() -> pump(pair, client, upstream, true));
    start(() -> pump(pair, upstream, client, false));
  }

  /** One proxied connection; {@code trapped} once it has sent the revision-row statement. */
  private static final class Pair {
    final Socket client;
    final Socket upstream;
    final int node;
    volatile CompletableFuture<Void> trapped;
    volatile boolean frozen;

    /** The database's answers, message by message (read by its pump only). */
    final BackendMessages answers = new BackendMessages();

    Pair(Socket client, Socket upstream, int node) {
      this.client = client;
      this.upstream = upstream;
      this.node = node;
    }
  }

  private void pump(Pair pair, Socket from, Socket to, boolean toDatabase) {
    byte[] buffer = new byte[16 * 1024];
    // not try-with-resources: closing the stream closes the socket, and an orphaned database side
    // must stay open and silent (no FIN), as it does when a pod dies without a word
    DelayLine line = null;
    try {
      InputStream in = from.getInputStream();
      line = new DelayLine(to.getOutputStream());
      int n;
      while ((n = in.read(buffer)) >= 0) {
        // every answer is framed, even one swallowed, so that the next is read from its start
        BackendMessages.Verdict answered =
            toDatabase ? BackendMessages.Verdict.NOTHING : pair.answers.read(buffer, n);
        if (mode == Mode.BLACKHOLE || pair.node == lostNode) {
          continue; // swallowed: the other side never hears back
        }
        if (toDatabase && pair.trapped != null && contains(buffer, n, COMMIT)) {
          // the statement that took the row was larger than one read: its COMMIT came after it
          halfOpen = pair.trapped;
          pair.trapped = null;
        }
        if (toDatabase && pair.frozen) {
          continue; // the client is gone mid-statement, as far as the database can tell
        }
        if (toDatabase && contains(buffer, n, REVISION_ROW) && !contains(buffer, n, COMMIT)) {
          CompletableFuture<Void> trap = halfOpen;
          CompletableFuture<Integer> notice = freeze;
          if (trap != null) {
            halfOpen = null;
            pair.trapped = trap;
          } else if (notice != null) {
            freeze = null;
            pair.frozen = true;
            int session = pair.upstream.getLocalPort();
            line.send(buffer, n, () -> notice.complete(session));
            continue;
          }
        }
        if (!toDatabase
            && pair.trapped != null
            && answered == BackendMessages.Verdict.HELD_NOTHING) {
          // the statement failed (a lock wait cut by lock_timeout) or found its reads moved: it
          // holds nothing; wait for the next connection that takes the row
          halfOpen = pair.trapped;
          pair.trapped = null;
        }
        if (!toDatabase
            && pair.trapped != null
            && answered == BackendMessages.Verdict.TOOK_THE_ROW) {
          // the database holds the row for this session now: the client vanishes without a FIN
          // reaching the database; its side of the connection stays open and silent
          orphans.add(pair.upstream);
          sockets.remove(pair.upstream);
          reset(pair.client);
          pair.trapped.complete(null);
          return;
        }
        line.send(buffer, n, null);
      }
    } catch (IOException e) {
      // reset or closed: tear down the pair below
      // both pumps of a cut pair take their socket out; the client's side released, reset sent, now
      if (cutOff.remove(from) && toDatabase) {
        long late = System.nanoTime() - cutAtNanos;
        slowestResetNanos.accumulateAndGet(late, Math::max);
      }
    } finally {
      if (line != null) {
        line.close(); // what was read before the end is still delivered
      }
    }
    if (orphans.contains(pair.upstream)) {
      return;
    }
    pairs.remove(pair);
    if (pair.node == lostNode) {
      // the node is gone: neither end hears that the other went (the database's session stays
      // until its own timeouts end it, as a lost node's transactions stay until they expire)
      heldByLostNode.add(pair.upstream);
      if (from == pair.client) {
        reset(pair.client); // the client's own close
      } else {
        heldByLostNode.add(pair.client);
      }
      return;
    }
    reset(from);
    reset(to);
  }

  /**
   * One direction of a connection: what the pump reads now is written {@code latencyMillis} later,
   * in order, by a thread of its own, while the pump goes on reading.
   */
  private final class DelayLine {
    private record Piece(long dueNanos, byte[] bytes, Runnable then) {}

    private static final Piece END = new Piece(0, null, null);

    private final LinkedBlockingQueue<Piece> pieces = new LinkedBlockingQueue<>();
    private final CountDownLatch delivered = new CountDownLatch(1);
    private final OutputStream out;

    DelayLine(OutputStream out) {
      this.out = out;
      Thread t = new Thread(this::deliver, "fault-proxy-line");
      t.setDaemon(true);
      t.start();
    }

    void send(byte[] buffer, int length, Runnable then) {
      long due = System.nanoTime() + latencyMillis * 1_000_000L;
      pieces.add(new Piece(due, Arrays.copyOf(buffer, length), then));
    }

    /** Delivers what was sent before (for at most a second), then stops. */
    void close() {
      pieces.add(END);
      try {
        delivered.await(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /**
     * How long until a piece due at {@code due} may go: its latency, or a stall, whichever ends
     * last.
     */
    private long untilDue(long due) {
      long now = System.nanoTime();
      return Math.max(due - now, stalledUntilNanos - now);
    }

    private void deliver() {
      try {
        for (Piece p = pieces.take(); p != END; p = pieces.take()) {
          for (long wait; (wait = untilDue(p.dueNanos)) > 0; ) {
            LockSupport.parkNanos(wait);
          }
          out.write(p.bytes); // a socket's stream sends at once: nothing to flush
          if (p.then != null) {
            p.then.run();
          }
        }
      } catch (IOException | InterruptedException e) {
        // the pair was reset: the pump tears it down
      } finally {
        delivered.countDown();
      }
    }
  }

  private static boolean contains(byte[] buffer, int length, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (buffer[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static void start(Runnable pump) {
    Thread t = new Thread(pump, "fault-proxy-pump");
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
    orphans.forEach(this::reset);
    heldByLostNode.forEach(this::reset);
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
