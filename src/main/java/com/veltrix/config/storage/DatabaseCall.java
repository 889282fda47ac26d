package com.veltrix.config.storage;

import java.sql.SQLTransientConnectionException;
import java.util.function.Supplier;

/**
 * One call's dealings with the database, on the thread that serves it: its deadline (every
 * connection and every retry wait is bounded by it) and whether any attempt failed because of the
 * database itself (which the circuit breaker counts) rather than the caller's deadline, contention
 * or a queue inside this pod (which it does not).
 */
final class DatabaseCall {

  private static final ThreadLocal<DatabaseCall> CURRENT = new ThreadLocal<>();

  final long startNanos;
  final long deadlineNanos;
  private boolean databaseFailed;

  private DatabaseCall(long startNanos, long deadlineNanos) {
    this.startNanos = startNanos;
    this.deadlineNanos = deadlineNanos;
  }

  /** Runs {@code work} as one call with the given deadline ({@link System#nanoTime()} terms). */
  static <T> T run(long deadlineNanos, Supplier<T> work) {
    DatabaseCall previous = CURRENT.get();
    CURRENT.set(new DatabaseCall(System.nanoTime(), deadlineNanos));
    try {
      return work.get();
    } finally {
      if (previous == null) {
        CURRENT.remove();
      } else {
        CURRENT.set(previous);
      }
    }
  }

  /** The call on this thread, or {@code null} outside one (start-up, the probe, migrations). */
  static DatabaseCall current() {
    return CURRENT.get();
  }

  long remainingNanos() {
    return deadlineNanos - System.nanoTime();
  }

  long budgetNanos() {
    return deadlineNanos - startNanos;
  }

  /** Notes a failed attempt. */
  void failed(Throwable failure) {
    databaseFailed |= TransientFailures.isDatabaseFailure(failure);
  }

  boolean databaseFailed() {
    return databaseFailed;
  }

  /**
   * A connection was wanted after the call's deadline: the caller ran out of time, not the
   * database.
   */
  static final class DeadlinePassed extends SQLTransientConnectionException {
    DeadlinePassed() {
      super("the call's deadline passed before the database was asked");
    }
  }
}
