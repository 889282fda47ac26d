package com.veltrix.config.storage;

import com.veltrix.config.catalog.CallDeadline;
import com.veltrix.config.catalog.StoreUnavailableException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.TransactionCallback;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Runs every database call at the database edge, in this order:
 *
 * <ol>
 *   <li>the circuit breaker ({@value #BREAKER}, tuned in application.yaml): while it is open, or
 *       before the schema is migrated, the call fails at once with {@link
 *       StoreUnavailableException} instead of queueing on the pool;
 *   <li>for writes, a fair in-process gate (see {@link #inTransaction});
 *   <li>the unit itself (a whole transaction, or one read statement), re-run on transient failures
 *       ({@link TransientFailures}) with exponential backoff and full jitter, never past the
 *       deadline: the caller's (a gRPC client's) or else the request budget. Connections carry the
 *       remaining time as their network timeout ({@link DeadlineDataSource}).
 * </ol>
 *
 * The retry is this class's own loop rather than a Resilience4j Retry: its waits must be cut to a
 * per-call deadline, which Resilience4j's attempt-numbered interval functions cannot see.
 */
@Component
class TransactionRunner {

  /** The circuit breaker's instance name in application.yaml. */
  static final String BREAKER = "database";

  private static final Logger log = LoggerFactory.getLogger(TransactionRunner.class);

  private final TransactionTemplate transactions;
  private final RetryProperties properties;
  private final DatabaseMigrations migrations;
  private final CircuitBreaker breaker;
  private final Counter retried;
  private final Counter recovered;
  private final Counter exhausted;
  private final ReentrantLock writeGate = new ReentrantLock(true);

  TransactionRunner(
      PlatformTransactionManager transactionManager,
      RetryProperties properties,
      DatabaseMigrations migrations,
      CircuitBreakerRegistry breakers,
      MeterRegistry meters) {
    // Writes are SERIALIZABLE; reads are single statements at the pool's READ COMMITTED, which
    // sees every commit that finished before the statement began (no stale read) without the
    // predicate locks that ran PostgreSQL out of shared memory under the benchmark's 32 readers.
    this.transactions = new TransactionTemplate(transactionManager);
    this.transactions.setIsolationLevel(TransactionDefinition.ISOLATION_SERIALIZABLE);
    this.properties = properties;
    this.migrations = migrations;
    this.breaker = breakers.circuitBreaker(BREAKER);
    breaker
        .getEventPublisher()
        .onStateTransition(e -> log.warn("Database circuit {}", e.getStateTransition()));
    this.retried = meters.counter("veltrix.db.retries", "outcome", "retried");
    this.recovered = meters.counter("veltrix.db.retries", "outcome", "recovered");
    this.exhausted = meters.counter("veltrix.db.retries", "outcome", "exhausted");
  }

  /**
   * Runs {@code work} as one transaction. Writers of this process queue on a fair local gate before
   * they start: every write transaction serialises on the revision row anyway, and on PostgreSQL
   * the writers that wait there all fail with 40001 when the holder commits, so letting them in
   * together only turns a queue into a retry storm in which one writer can starve. Waiting at the
   * gate counts against the deadline.
   */
  <T> T inTransaction(TransactionCallback<T> work) {
    long deadline = deadline();
    // Queued behind this pod's own writers is not the database failing: the gate is outside the
    // breaker, or a burst of local load would open it and fail every read for a second.
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
      return guarded(() -> withRetries(deadline, () -> transactions.execute(work)));
    } finally {
      writeGate.unlock();
    }
  }

  <T> T read(Supplier<T> query) {
    long deadline = deadline();
    return guarded(() -> withRetries(deadline, query));
  }

  static void discard(TransactionStatus status) {
    status.setRollbackOnly();
  }

  /** The caller's deadline when it gave one (gRPC), else the request budget from now (REST). */
  private long deadline() {
    return CallDeadline.nanoTime()
        .orElseGet(() -> System.nanoTime() + properties.requestBudget().toNanos());
  }

  private <T> T guarded(Supplier<T> unit) {
    if (!migrations.migrated()) {
      throw new StoreUnavailableException("the database has not been reached yet", null);
    }
    try {
      return breaker.executeSupplier(unit);
    } catch (CallNotPermittedException e) {
      throw new StoreUnavailableException("the database circuit is open", e, true);
    }
  }

  private <T> T withRetries(long deadline, Supplier<T> unit) {
    long cap = properties.initialBackoff().toNanos();
    for (int attempt = 1; ; attempt++) {
      try {
        T result = DeadlineDataSource.within(deadline, unit);
        if (attempt > 1) {
          recovered.increment();
        }
        return result;
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
        retried.increment();
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
