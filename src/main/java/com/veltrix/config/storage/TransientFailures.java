package com.veltrix.config.storage;

import java.net.SocketException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Optional;
import java.util.Set;
import org.springframework.transaction.TransactionSystemException;

/**
 * The one place that decides which database failures are transient, from the SQLSTATE found
 * anywhere in the cause chain (Spring's exception types are too coarse: they file 40001 and 40003
 * alike), and which of them are the database's fault.
 *
 * <p>Transient (the whole transaction is run again within the caller's deadline): serialization
 * failures and CockroachDB's "restart transaction" (40001), deadlocks (40P01), connection failures
 * (08xxx, except 08P01, a protocol violation such as a message over CockroachDB's 16 MiB limit,
 * which fails the same way every time), shutdowns (57P01-57P03), too many connections (53300),
 * CockroachDB's ambiguous commit (40003, safe to retry only because every write is idempotent), and
 * a lock wait cut by the session's {@code lock_timeout} (55P03: the writer queues again). A COMMIT
 * or ROLLBACK that failed without a SQLSTATE (the connection broke under it) is an ambiguous commit
 * too. Everything else is not retried.
 *
 * <p>The database's fault (what the circuit breaker counts): the connection-class failures among
 * them, and a statement cancelled (57014: at its call's deadline by {@link DeadlineDataSource}, or
 * by the session's {@code statement_timeout}), which is not tried again: the database did not
 * answer in time, as with the socket timeout's 08006 (the runner still spares a call that gave the
 * database less than {@code breaker-min-budget}). Contention (40001, 40P01, 55P03) is writers
 * meeting each other, a pool wait without a connection failure behind it is a queue inside this
 * pod, and a deadline that passed before the database was asked is the caller's.
 */
public final class TransientFailures {

  private static final Set<String> CONTENTION = Set.of("40001", "40P01", "55P03");
  private static final Set<String> UNAVAILABLE =
      Set.of("40003", "57P01", "57P02", "57P03", "53300");
  private static final String PROTOCOL_VIOLATION = "08P01";
  private static final String CANCELLED = "57014";

  private TransientFailures() {}

  public static boolean isTransient(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException || t instanceof SocketException) {
        return true; // no connection from the pool in time, or the connection itself broke
      }
      if (t instanceof SQLException sql
          && sql.getSQLState() != null
          && isTransientState(sql.getSQLState())) {
        return true;
      }
      if (t instanceof TransactionSystemException tse) {
        // COMMIT or ROLLBACK itself failed: the connection died under the transaction (an
        // ambiguous commit, as CockroachDB's 40003). Transient unless the database named a reason.
        return (tse.getApplicationException() != null && isTransient(tse.getApplicationException()))
            || sqlState(tse).map(TransientFailures::isTransientState).orElse(true);
      }
    }
    return false;
  }

  /**
   * Whether a write attempt that failed this way may have committed: false only when the database
   * itself refused it for contention (40001, including reads found moved, 40P01, 55P03), the first
   * SQLSTATE in the cause chain. A refusal is an answer: the transaction it ended wrote nothing.
   * Anything else (a broken connection, CockroachDB's 40003, a COMMIT that failed without a
   * SQLSTATE, an error of this service's own) may have followed a COMMIT whose reply was lost.
   */
  static boolean mayHaveCommitted(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SocketException || t instanceof TransactionSystemException) {
        return true;
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        return !CONTENTION.contains(sql.getSQLState());
      }
    }
    return true;
  }

  /** Whether a (transient) failure says the database itself did not answer. */
  static boolean isDatabaseFailure(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof DeadlinePassed) {
        return false;
      }
      if (t instanceof SQLTransientConnectionException pool
          && pool.getCause() == null
          && pool.getSQLState() == null) {
        return false; // the pool had no free connection in time, and none failed to open
      }
      if (t instanceof SocketException) {
        return true;
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        String state = sql.getSQLState();
        if (CONTENTION.contains(state)) {
          return false;
        }
        if (isTransientState(state) || CANCELLED.equals(state)) {
          return true;
        }
      }
      if (t instanceof TransactionSystemException tse) {
        return sqlState(tse).map(TransientFailures::isTransientState).orElse(true);
      }
    }
    return false;
  }

  /** A statement the database cancelled (its deadline, or the session's statement_timeout). */
  static boolean isCancelled(Throwable failure) {
    return sqlState(failure).filter(CANCELLED::equals).isPresent();
  }

  static boolean isTransientState(String sqlState) {
    return CONTENTION.contains(sqlState)
        || UNAVAILABLE.contains(sqlState)
        || (sqlState.startsWith("08") && !sqlState.equals(PROTOCOL_VIOLATION));
  }

  /**
   * The first SQLSTATE in the cause chain with the first line of its message, cut to 60 characters
   * ("40001 could not serialize access due to concurrent update"), else the failure's type: a short
   * account of one failed attempt for the log.
   */
  static String describe(Throwable failure) {
    return withState(failure)
        .map(
            sql -> {
              String message = String.valueOf(sql.getMessage()).lines().findFirst().orElse("");
              message = message.startsWith("ERROR: ") ? message.substring(7) : message;
              return sql.getSQLState() + " " + message.substring(0, Math.min(60, message.length()));
            })
        .orElse(failure.getClass().getSimpleName());
  }

  /** The first SQLSTATE in the cause chain. */
  public static Optional<String> sqlState(Throwable failure) {
    return withState(failure).map(SQLException::getSQLState);
  }

  /** The first exception in the cause chain that carries a SQLSTATE. */
  private static Optional<SQLException> withState(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        return Optional.of(sql);
      }
    }
    return Optional.empty();
  }
}
