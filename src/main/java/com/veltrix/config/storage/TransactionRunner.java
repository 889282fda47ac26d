package com.veltrix.config.storage;

import com.veltrix.config.catalog.CallDeadline;
import com.veltrix.config.catalog.StoreUnavailableException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.TransactionCallback;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Runs database work, retrying transient failures ({@link TransientFailures}) by re-running the
 * whole unit (a transaction, or a single read statement) with exponential backoff and full jitter,
 * never past the request budget. The pool hands out connections at SERIALIZABLE isolation, so
 * PostgreSQL raises the same 40001 errors as CockroachDB and this path runs for real in tests.
 */
@Component
class TransactionRunner {

  private static final Logger log = LoggerFactory.getLogger(TransactionRunner.class);

  private final TransactionTemplate transactions;
  private final RetryProperties properties;
  private final Counter retries;
  private final Counter exhausted;
  private final ReentrantLock writeGate = new ReentrantLock(true);

  TransactionRunner(
      TransactionTemplate transactions, RetryProperties properties, MeterRegistry meters) {
    this.transactions = transactions;
    this.properties = properties;
    this.retries = meters.counter("veltrix.db.retries", "outcome", "retried");
    this.exhausted = meters.counter("veltrix.db.retries", "outcome", "exhausted");
  }

  /**
   * Runs {@code work} as one transaction. Writers of this process queue on a fair local gate before
   * they start: every write transaction serialises on the revision row anyway, and on PostgreSQL
   * the writers that wait there all fail with 40001 when the holder commits, so letting them in
   * together only turns a queue into a retry storm in which one writer can starve. Waiting at the
   * gate counts against the budget.
   */
  <T> T inTransaction(TransactionCallback<T> work) {
    long deadline = deadline();
    boolean entered;
    try {
      entered = writeGate.tryLock(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("interrupted while queued to write", e);
    }
    if (!entered) {
      exhausted.increment();
      throw new StoreUnavailableException("writers are queued past the call's deadline", null);
    }
    try {
      return withRetries(deadline, () -> transactions.execute(work));
    } finally {
      writeGate.unlock();
    }
  }

  <T> T read(Supplier<T> query) {
    return withRetries(deadline(), query);
  }

  /** The caller's deadline when it gave one (gRPC), else the request budget from now (REST). */
  private long deadline() {
    return CallDeadline.nanoTime()
        .orElseGet(() -> System.nanoTime() + properties.requestBudget().toNanos());
  }

  static void discard(TransactionStatus status) {
    status.setRollbackOnly();
  }

  private <T> T withRetries(long deadline, Supplier<T> unit) {
    long cap = properties.initialBackoff().toNanos();
    for (int attempt = 1; ; attempt++) {
      try {
        return unit.get();
      } catch (RuntimeException e) {
        if (!TransientFailures.isTransient(e)) {
          throw e;
        }
        long pause = ThreadLocalRandom.current().nextLong(cap + 1);
        if (System.nanoTime() + pause >= deadline) {
          exhausted.increment();
          log.warn(
              "database call failed after {} attempts within the deadline: {}",
              attempt,
              TransientFailures.sqlState(e).orElse(e.getClass().getSimpleName()));
          throw new StoreUnavailableException(
              "the database did not answer within the call's deadline", e);
        }
        retries.increment();
        sleep(pause);
        cap = Math.min(cap * 2, properties.maxBackoff().toNanos());
      }
    }
  }

  private static void sleep(long nanos) {
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while backing off", e);
    }
  }
}
