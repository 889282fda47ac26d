package com.veltrix.config.storage;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Server-side bounds of every database session ({@code veltrix.database.*}), sent in the
 * connection's startup packet (pgjdbc's {@code options=-c name=value}), so they hold on every
 * connection the pool ever opens and need no extra round trip. PostgreSQL and CockroachDB both know
 * all three variables.
 *
 * @param statementTimeout the longest any one statement may run on the server; a query whose client
 *     gave up (its socket timed out at the call's deadline) is cancelled by the database by then
 * @param lockTimeout the longest a statement waits for one row lock (the revision row, above all).
 *     Shorter than the REST request budget, so the database gives up before the client does: the
 *     wait ends as a 55P03 on a healthy connection (retried within the caller's deadline) instead
 *     of a client that closed its socket and a backend left queued on the lock. On CockroachDB it
 *     also bounds reads that wait on a writer's lock. Twice it, plus 50 ms, is the shortest socket
 *     timeout a call gets when it keeps time back for a retry ({@code DeadlineDataSource})
 * @param idleInTransactionTimeout a session idle inside a transaction this long is ended by the
 *     database: a pod killed or partitioned mid-transaction (no FIN ever reaches the database) then
 *     releases the revision row within seconds instead of stalling every writer on every pod
 * @param migrationTimeout the socket timeout of the migration connection (DDL may run long; a
 *     database that stopped answering must not hold the migration thread forever)
 */
@ConfigurationProperties("veltrix.database")
public record DatabaseProperties(
    @DefaultValue("10s") Duration statementTimeout,
    @DefaultValue("200ms") Duration lockTimeout,
    @DefaultValue("3s") Duration idleInTransactionTimeout,
    @DefaultValue("10m") Duration migrationTimeout) {

  /** The pgjdbc {@code options} value that sets the three bounds on a request session. */
  String sessionOptions() {
    return options(statementTimeout, lockTimeout, idleInTransactionTimeout);
  }

  /**
   * The bounds of the migration session: no statement timeout (a DDL may legitimately run long; the
   * socket timeout bounds it), and a lock wait of {@link #MIGRATION_LOCK_WAIT}: a DDL queued behind
   * a long transaction would otherwise hold every later reader and writer behind its exclusive lock
   * request. It gives up instead, and the migration is tried again a second later.
   */
  String migrationOptions() {
    return options(Duration.ZERO, MIGRATION_LOCK_WAIT, idleInTransactionTimeout);
  }

  static final Duration MIGRATION_LOCK_WAIT = Duration.ofSeconds(10);

  private static String options(Duration statement, Duration lock, Duration idle) {
    return "-c statement_timeout="
        + statement.toMillis()
        + " -c lock_timeout="
        + lock.toMillis()
        + " -c idle_in_transaction_session_timeout="
        + idle.toMillis();
  }
}
