package com.veltrix.config.storage;

import com.veltrix.config.catalog.CallContext;
import com.veltrix.config.catalog.RequestBudget;
import com.veltrix.config.catalog.StoreUnavailableException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.common.retry.configuration.RetryConfigCustomizer;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.TransactionCallback;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Runs every database call at the database edge, as one {@link CallContext} with a deadline (the
 * gRPC client's, else the REST request budget), in this order:
 *
 * <ol>
 *   <li>for writes, a fair in-process gate (see {@link #inTransaction});
 *   <li>the circuit breaker ({@value #DATABASE}, tuned in application.yaml): while it is open, or
 *       before the schema is migrated, the call fails at once with {@link
 *       StoreUnavailableException} instead of queueing on the pool. It counts only the database's
 *       own failures ({@link DatabaseUnavailable}) and ignores the rest ({@link
 *       NotTheDatabasesFault});
 *   <li>Resilience4j's Retry ({@value #DATABASE}): the unit (a whole transaction, or one read
 *       statement) is run again on transient failures ({@link TransientFailures}) with exponential
 *       backoff and full jitter. Its predicate and interval function read the call's deadline, so
 *       no attempt starts and no wait runs past it ({@link #databaseRetry}). A retry keeps the
 *       call's place in the pool's queue ({@link PoolQueue}, {@link CallContext#attempts});
 *   <li>connections carry the remaining time as their network timeout ({@link DeadlineDataSource}).
 * </ol>
 */
@Component
class TransactionRunner {

  /** The circuit breaker's and the retry's instance name in application.yaml. */
  static final String DATABASE = "database";

  private static final Logger log = LoggerFactory.getLogger(TransactionRunner.class);
  private static final long MIN_ATTEMPT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  private final TransactionTemplate transactions;
  private final RetryProperties properties;
  private final RequestBudget budget;
  private final DatabaseMigrations migrations;
  private final CircuitBreaker breaker;
  private final Retry retry;
  private final Counter exhausted;
  private final ReentrantLock writeGate = new ReentrantLock(true);

  TransactionRunner(
      PlatformTransactionManager transactionManager,
      RetryProperties properties,
      RequestBudget budget,
      DatabaseMigrations migrations,
      CircuitBreakerRegistry breakers,
      RetryRegistry retries,
      MeterRegistry meters) {
    // Write transactions lock the revision row in their first statement, after their reads, and
    // check what the reads saw under it (JdbcWriteTransaction); reads are single statements at the
    // pool's READ COMMITTED, which
    // sees every commit that finished before the statement began (no stale read) without the
    // predicate locks that ran PostgreSQL out of shared memory under the benchmark's 32 readers.
    // Housekeeping transactions (retention) stay at READ COMMITTED: they compare-and-set.
    this.transactions = new TransactionTemplate(transactionManager);
    this.properties = properties;
    this.budget = budget;
    this.migrations = migrations;
    this.breaker = breakers.circuitBreaker(DATABASE);
    breaker
        .getEventPublisher()
        .onStateTransition(e -> log.warn("Database circuit {}", e.getStateTransition()));
    this.retry = retries.retry(DATABASE);
    Counter retried = meters.counter("veltrix.db.retries", "outcome", "retried");
    Counter recovered = meters.counter("veltrix.db.retries", "outcome", "recovered");
    retry.getEventPublisher().onRetry(e -> retried.increment());
    retry.getEventPublisher().onSuccess(e -> recovered.increment()); // after one retry or more
    this.exhausted = meters.counter("veltrix.db.retries", "outcome", "exhausted");
  }

  /**
   * The retry's predicate and waits, which configuration files cannot express: retry a transient
   * failure only while the call has time left, and never wait past its deadline. Attempts, metrics
   * and events stay Resilience4j's ({@code resilience4j_retry_calls_total}).
   */
  @Bean
  static RetryConfigCustomizer databaseRetry(RetryProperties properties) {
    return RetryConfigCustomizer.of(
        DATABASE,
        builder ->
            builder
                // the customizer's builder is raw: its lambdas see Objects
                .retryOnException(failure -> worthRetrying((Throwable) failure))
                .intervalBiFunction(
                    (attempt, outcome) -> pauseMillis((Integer) attempt, properties)));
  }

  private static boolean worthRetrying(Throwable failure) {
    CallContext call = CallContext.current();
    if (call == null) {
      return false;
    }
    if (TransientFailures.isDatabaseFailure(failure)) {
      call.databaseFailed();
    }
    call.note(TransientFailures.describe(failure));
    return TransientFailures.isTransient(failure) && call.remainingNanos() > MIN_ATTEMPT_NANOS;
  }

  /**
   * The lock wait this write attempt may spend: what is left of its deadline, less a margin for the
   * statement and COMMIT, and never more than the session's lock_timeout. The database then gives
   * up before the client does, so a writer out of time never leaves a backend queued on the
   * revision row (the client closing its socket would not stop that backend waiting).
   */
  static long lockWaitMillis(long sessionLockTimeoutMillis) {
    CallContext call = CallContext.current();
    long left = call == null ? sessionLockTimeoutMillis : call.remainingNanos() / 1_000_000 - 20;
    return Math.max(1, Math.min(sessionLockTimeoutMillis, left));
  }

  /** Full jitter below an exponentially growing cap, cut to what is left of the deadline. */
  private static long pauseMillis(int attempt, RetryProperties properties) {
    long cap =
        Math.min(
            properties.initialBackoff().toNanos() << Math.min(attempt - 1, 20),
            properties.maxBackoff().toNanos());
    long pause = ThreadLocalRandom.current().nextLong(cap + 1);
    CallContext call = CallContext.current();
    long left = call == null ? 0 : call.remainingNanos() - MIN_ATTEMPT_NANOS;
    return TimeUnit.NANOSECONDS.toMillis(Math.max(0, Math.min(pause, left)));
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
      throw new StoreUnavailableException("interrupted while queued to write", e, false, false);
    }
    if (!entered) {
      exhausted.increment();
      throw new StoreUnavailableException(
          "writers are queued past the call's deadline", null, false, false);
    }
    try {
      return guarded(deadline, () -> transactions.execute(work));
    } finally {
      writeGate.unlock();
    }
  }

  /**
   * Runs {@code work} as one transaction of housekeeping ({@link HistoryRetention}): not behind the
   * write gate (it never takes the revision row, so it does not queue with writers).
   */
  <T> T maintenance(Supplier<T> work) {
    return guarded(deadline(), () -> transactions.execute(status -> work.get()));
  }

  <T> T read(Supplier<T> query) {
    return guarded(deadline(), query);
  }

  static void discard(TransactionStatus status) {
    status.setRollbackOnly();
  }

  /** The caller's deadline when it gave one (gRPC), else the request budget from now (REST). */
  private long deadline() {
    return budget.deadlineNanos();
  }

  private <T> T guarded(long deadline, Supplier<T> unit) {
    if (!migrations.migrated()) {
      throw new StoreUnavailableException("the database has not been reached yet", null);
    }
    return CallContext.attempts(
        deadline,
        () -> {
          try {
            return breaker.executeSupplier(() -> attempts(unit));
          } catch (CallNotPermittedException e) {
            throw new StoreUnavailableException("the database circuit is open", e, true, true);
          }
        });
  }

  private <T> T attempts(Supplier<T> unit) {
    try {
      return retry.executeSupplier(unit);
    } catch (RuntimeException e) {
      CallContext call = CallContext.current();
      // a statement the database cancelled, at the call's deadline or by the session's
      // statement_timeout (it did not finish in time): unavailable, not an unexpected failure
      if (!TransientFailures.isTransient(e) && !TransientFailures.isCancelled(e)) {
        throw e;
      }
      // judged by the time the database had once a connection was handed out: a call that spent
      // its budget queued for a connection and then timed out on the socket was this pod's queue
      boolean databaseAtFault =
          call.sawDatabaseFailure()
              && call.databaseBudgetNanos() >= properties.breakerMinBudget().toNanos();
      exhausted.increment();
      String state = TransientFailures.sqlState(e).orElse(e.getClass().getSimpleName());
      // the trail says where a call's time went: "+0ms connection, +38ms 40001, +52ms connection"
      if (databaseAtFault) {
        log.warn(
            "database did not answer within the call's deadline: {} [{}]", state, call.trail());
      } else if (call.budgetNanos() >= properties.breakerMinBudget().toNanos()) {
        log.warn(
            "call ran out of its deadline (contention or a queue in this pod): {} [{}]",
            state,
            call.trail());
      } else {
        log.debug("call ran out of its short deadline: {} [{}]", state, call.trail());
      }
      throw new StoreUnavailableException(
          databaseAtFault
              ? "the database did not answer within the call's deadline"
              : "the call's deadline passed while waiting (contention or a queue in this pod)",
          e,
          false,
          databaseAtFault);
    }
  }
}
