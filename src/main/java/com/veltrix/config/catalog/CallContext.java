package com.veltrix.config.catalog;

import java.util.OptionalLong;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/**
 * The one piece of per-call state this service keeps on the serving thread: the call's deadline,
 * what its database work has seen so far, and, between the attempts of a database call, the pool's
 * permit it keeps ({@link #attempts}).
 *
 * <p>A gRPC call opens a context with its client's deadline ({@code grpc/CallDeadlines}); the write
 * committer opens one with its group head's deadline; every database call at the storage edge opens
 * a nested one ({@link #attempts}: same or earlier deadline, its own start and failure record), so
 * the circuit breaker judges each database call by what happened inside it. REST calls bring no
 * deadline of their own and get the request budget ({@link RequestBudget}).
 */
public final class CallContext {

  private static final ThreadLocal<CallContext> CURRENT = new ThreadLocal<>();

  private final long startNanos;
  private final long deadlineNanos;
  private final boolean keepsPermits;
  private Semaphore keptPermit;
  private boolean closed;
  private boolean databaseFailed;
  private long databaseGivenNanos = -1;
  private long lastConnectionNanos = -1;
  private StringBuilder trail;

  private CallContext(long startNanos, long deadlineNanos, boolean keepsPermits) {
    this.startNanos = startNanos;
    this.deadlineNanos = deadlineNanos;
    this.keepsPermits = keepsPermits;
  }

  /** Runs {@code work} in a context with the deadline {@code deadlineNanos} (nanoTime terms). */
  public static void run(long deadlineNanos, Runnable work) {
    call(
        deadlineNanos,
        () -> {
          work.run();
          return null;
        });
  }

  /**
   * Computes {@code work} in a new context whose deadline is {@code deadlineNanos} ({@link
   * System#nanoTime()} terms), or the enclosing context's when that is earlier.
   */
  public static <T> T call(long deadlineNanos, Supplier<T> work) {
    return open(deadlineNanos, false, work);
  }

  /**
   * Computes {@code work} like {@link #call}, as one call to the database that may take several
   * attempts: the permit of a queue that an attempt gives back ({@link #keepPermit}: the pool's
   * queue in front of its connections) is kept for the next attempt and released when {@code work}
   * ends, so that a retry goes on where the call stood instead of queueing again behind the calls
   * that came after it.
   */
  public static <T> T attempts(long deadlineNanos, Supplier<T> work) {
    return open(deadlineNanos, true, work);
  }

  private static <T> T open(long deadlineNanos, boolean keepsPermits, Supplier<T> work) {
    CallContext outer = CURRENT.get();
    long deadline = outer == null ? deadlineNanos : Math.min(outer.deadlineNanos, deadlineNanos);
    CallContext context = new CallContext(System.nanoTime(), deadline, keepsPermits);
    CURRENT.set(context);
    try {
      return work.get();
    } finally {
      context.close();
      if (outer == null) {
        CURRENT.remove();
      } else {
        CURRENT.set(outer);
      }
    }
  }

  /**
   * Keeps a permit of {@code permits} that this call is giving back, for its next attempt: true if
   * kept (in a context of {@link #attempts} that is still open and keeps no other), false if the
   * caller must release it.
   */
  public synchronized boolean keepPermit(Semaphore permits) {
    if (!keepsPermits || closed || keptPermit != null) {
      return false;
    }
    keptPermit = permits;
    return true;
  }

  /** Takes back the permit of {@code permits} this call kept, if it kept one. */
  public synchronized boolean takeKeptPermit(Semaphore permits) {
    if (keptPermit != permits) {
      return false;
    }
    keptPermit = null;
    return true;
  }

  private synchronized void close() {
    closed = true;
    if (keptPermit != null) {
      keptPermit.release();
      keptPermit = null;
    }
  }

  /** The context on this thread, or {@code null} outside one (start-up, probes, migrations). */
  public static CallContext current() {
    return CURRENT.get();
  }

  /** The current call's deadline ({@link System#nanoTime()} terms), if a context is open. */
  public static OptionalLong deadline() {
    CallContext context = CURRENT.get();
    return context == null ? OptionalLong.empty() : OptionalLong.of(context.deadlineNanos);
  }

  public long remainingNanos() {
    return deadlineNanos - System.nanoTime();
  }

  /** The time this context was given when it opened. */
  public long budgetNanos() {
    return deadlineNanos - startNanos;
  }

  /**
   * Notes that a connection was handed to this call with {@code remainingNanos} left: the time the
   * database itself had to answer, after the wait for a pooled connection (the write gate is passed
   * before a storage call's context opens, so {@link #budgetNanos()} already leaves it out).
   */
  public void connectionHandedOut(long remainingNanos) {
    databaseGivenNanos = Math.max(databaseGivenNanos, remainingNanos);
    if (trail == null) {
      lastConnectionNanos = System.nanoTime();
    } else {
      note("connection", System.nanoTime());
    }
  }

  /**
   * Notes a failed attempt of this call with the time since the context opened, for the log line of
   * a call that runs out of time: "+3ms connection, +41ms 40001 ..., +43ms connection, ...". The
   * connections handed out are part of it; a call that never fails allocates nothing for it: until
   * the first failure only the latest hand-out's time is kept, the connection that failure came on
   * (a call that read on two connections before it failed lists the second).
   */
  public void note(String failure) {
    if (trail == null && lastConnectionNanos >= 0) {
      note("connection", lastConnectionNanos);
    }
    note(failure, System.nanoTime());
  }

  private void note(String event, long atNanos) {
    if (trail == null) {
      trail = new StringBuilder(64);
    } else {
      trail.append(", ");
    }
    trail.append('+').append((atNanos - startNanos) / 1_000_000).append("ms ").append(event);
  }

  /** What {@link #note} recorded, in order; empty when nothing was. */
  public String trail() {
    return trail == null ? "" : trail.toString();
  }

  /**
   * The most time any attempt of this call gave the database: the remaining time when a connection
   * was handed out, or, when none ever was (the pool could not open one), the whole budget.
   */
  public long databaseBudgetNanos() {
    return databaseGivenNanos < 0 ? budgetNanos() : databaseGivenNanos;
  }

  /** Notes that an attempt failed because the database itself did not answer. */
  public void databaseFailed() {
    databaseFailed = true;
  }

  /** Whether any attempt in this context failed because of the database itself. */
  public boolean sawDatabaseFailure() {
    return databaseFailed;
  }
}
