package com.veltrix.config.storage;

import com.veltrix.config.catalog.CallContext;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * A first-come, first-served queue in front of the connection pool: a call takes one of {@code
 * maximum-pool-size} permits before it asks HikariCP for a connection and gives it back when it
 * closes the connection (to the queue, or to the call for its next attempt: below), so HikariCP is
 * never asked by more callers than it has connections.
 *
 * <p>HikariCP's own wait is cheap for a few waiters and costly for many: a thread returning a
 * connection while others wait loops on {@code Thread.yield()} until one of them takes it ({@code
 * ConcurrentBag.requite}; brettwooldridge/HikariCP#835, "High CPU usage when there are lots of
 * pending connection pool requests"). With 32 REST readers on 8 connections and two cores the
 * service spent 0.47-0.73 ms of CPU a read and served 2,145-3,228 reads/s; with this queue (a fair
 * {@link Semaphore}, whose waiters park) 0.23-0.27 ms and 4,507-5,329 reads/s, p99 12-14 ms instead
 * of 37-46 ms (docs/performance.md, "Waiting for a connection"); with 1 ms each way to the
 * database, as across zones, 2,551-2,575 reads/s against 1,680-2,110 and p99 20 ms against 54-69.
 * It costs where the pool is seldom short: in {@code bench/run}'s loopback wrk row the service
 * spent 0.25-0.31 ms of CPU a read against 0.17-0.21 ms without it and served 3,910-4,864 reads/s
 * against 5,969-7,123 (two sets of alternated runs), partly the JDK proxy around every connection,
 * partly the fair handoff (docs/performance.md, "Where that cost is"). First come, first served is
 * what the pool-bound case needs: an unfair semaphore did as badly as HikariCP alone in a run by
 * hand, and every variant that let arrivals barge had a p99 of 29.7-35.7 ms at 1 ms each way
 * against this queue's 20.0-28.4.
 *
 * <p>A call to the database keeps its place between attempts ({@link CallContext#attempts}): the
 * permit an attempt gives back when its connection closes stays with the call for its retry and
 * returns to the queue when the call ends. Given back at once, the permit went to the caller that
 * queued first, and a write that lost the revision row to another pod after a cut queued again
 * behind calls that arrived after it: 2, 3 and 26 ms in the trails of three REST writes that then
 * ran out of their 250 ms (the fault suite's scenario a, 2026-12-03).
 *
 * <p>A call waits at most until its deadline ({@link CallContext}) and never longer than the pool's
 * {@code connection-timeout}, as it did in HikariCP's queue; running out of that time here is a
 * queue inside this pod, not the database failing (no cause and no SQLState: {@link
 * TransientFailures}), or {@link DeadlinePassed} when the call's own deadline is what ran out.
 * Unless the pool has been trying to open a connection for longer than {@link #STALLED_OPENING}
 * ({@link ReconnectingDataSource#openingNanos}): then the wait was on the database (a blackhole, or
 * a database that admits no sessions), and the failure says so with SQLSTATE 08001, which the
 * circuit breaker counts. A pool kept below its maximum ({@code minimum-idle}) has calls waiting on
 * such openings instead of on statements cancelled at their deadlines, and without this its breaker
 * opened in a blackhole only once pgjdbc's 2 s login timeout failed an opening (2.9 s after the
 * blackhole began, in the fault suite's scenario d).
 */
final class PoolQueue extends DelegatingDataSource implements MeterBinder {

  /**
   * How long an opening may take before calls waiting on it are waiting on the database: a new
   * session took 14-17 ms here on idle cores, and up to ~840 ms from a cut's start on two busy
   * cores behind PostgreSQL's one-at-a-time postmaster (docs/decisions.md).
   */
  static final long STALLED_OPENING = TimeUnit.MILLISECONDS.toNanos(500);

  private final HikariDataSource pool;
  private final Semaphore permits;
  private final int size;
  private final long waitNanos;
  private final LongSupplier openingNanos;

  PoolQueue(HikariDataSource pool) {
    super(pool);
    this.pool = pool;
    this.openingNanos =
        pool.getDataSource() instanceof ReconnectingDataSource opens
            ? opens::openingNanos
            : () -> 0;
    this.size = pool.getMaximumPoolSize();
    this.permits = new Semaphore(size, true);
    this.waitNanos = TimeUnit.MILLISECONDS.toNanos(pool.getConnectionTimeout());
  }

  /**
   * Registers {@code veltrix.db.pool.waiting} with {@code meters}: its context's registry ({@link
   * PoolQueueMeters}), not the JVM-wide global one, where a second context in the same JVM (the
   * fault suite runs two) would have got the first one's queue under the same name.
   */
  @Override
  public void bindTo(MeterRegistry meters) {
    Gauge.builder("veltrix.db.pool.waiting", this, PoolQueue::waiting)
        .description("calls waiting for a connection of the pool, in this pod's queue")
        .register(meters);
  }

  @Override
  public Connection getConnection() throws SQLException {
    CallContext call = enter();
    try {
      return released(borrow(call), call);
    } catch (SQLException | RuntimeException | Error e) {
      giveBack(call);
      throw e;
    }
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    CallContext call = enter();
    try {
      return released(super.getConnection(username, password), call);
    } catch (SQLException | RuntimeException | Error e) {
      giveBack(call);
      throw e;
    }
  }

  /**
   * Takes a permit: the one this call kept from its previous attempt ({@link
   * CallContext#attempts}), or one from the queue.
   */
  private CallContext enter() throws SQLException {
    CallContext call = CallContext.current();
    if (call == null || !call.takeKeptPermit(permits)) {
      await(call);
    }
    return call;
  }

  /**
   * A connection from HikariCP, whose own wait (for a connection to be opened when none is idle:
   * after a cut, every one) ends at the call's deadline too, not only at the pool's {@code
   * connection-timeout}: a retry that kept its permit waited there past its deadline (HikariCP's
   * timeout cannot be under 250 ms, the REST budget). Until HikariCP has started its pool (on the
   * first request), and once it is closed (refused at once), its data source answers as before.
   */
  private Connection borrow(CallContext call) throws SQLException {
    try {
      if (call != null
          && !pool.isClosed()
          && pool.getHikariPoolMXBean() instanceof HikariPool started) {
        long left = Math.min(waitNanos, call.remainingNanos());
        if (left <= 0) {
          throw new DeadlinePassed();
        }
        return started.getConnection(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      }
      return pool.getConnection();
    } catch (SQLTransientConnectionException e) {
      throw waitedOnTheDatabase(e);
    }
  }

  /**
   * A wait that ran out (no cause, no SQLSTATE: a queue in this pod; not the call's own deadline
   * passing before it began), restated as the database's failure (08001) when the pool has been
   * trying to open a connection for longer than {@link #STALLED_OPENING}; any other failure as it
   * is.
   */
  private SQLException waitedOnTheDatabase(SQLTransientConnectionException e) {
    long opening = openingNanos.getAsLong();
    if (e instanceof DeadlinePassed
        || e.getCause() != null
        || e.getSQLState() != null
        || opening <= STALLED_OPENING) {
      return e;
    }
    return new SQLTransientConnectionException(
        "the pool has been opening a connection for "
            + TimeUnit.NANOSECONDS.toMillis(opening)
            + " ms; "
            + e.getMessage(),
        "08001",
        e);
  }

  /** Gives a permit back: kept by {@code call} for its next attempt, or to the queue. */
  private void giveBack(CallContext call) {
    if (call == null || !call.keepPermit(permits)) {
      permits.release();
    }
  }

  /** Calls waiting for a connection: what HikariCP's {@code pending} gauge showed before. */
  int waiting() {
    return permits.getQueueLength();
  }

  private void await(CallContext call) throws SQLException {
    long wait = call == null ? waitNanos : Math.min(waitNanos, call.remainingNanos());
    try {
      if (permits.tryAcquire(Math.max(0, wait), TimeUnit.NANOSECONDS)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting for a pool connection", e);
    }
    if (call != null && call.remainingNanos() <= 0) {
      throw new DeadlinePassed();
    }
    throw waitedOnTheDatabase(
        new SQLTransientConnectionException(
            "none of the pool's "
                + size
                + " connections was free within "
                + TimeUnit.NANOSECONDS.toMillis(wait)
                + " ms"));
  }

  /** The connection, giving its permit back when it is closed (once, however often closed). */
  private Connection released(Connection target, CallContext call) {
    AtomicBoolean closed = new AtomicBoolean();
    return ConnectionHook.around(
        target,
        (method, args, connection) -> {
          if (!method.getName().equals("close")) {
            return ConnectionHook.invoke(connection, method, args);
          }
          try {
            return ConnectionHook.invoke(connection, method, args);
          } finally {
            if (closed.compareAndSet(false, true)) {
              giveBack(call);
            }
          }
        });
  }
}
