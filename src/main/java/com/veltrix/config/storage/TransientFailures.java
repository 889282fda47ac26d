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
 * alike). Transient: serialization failures and CockroachDB's "restart transaction" (40001),
 * deadlocks (40P01), connection failures (08xxx), shutdowns (57P01-57P03), too many connections
 * (53300), and CockroachDB's ambiguous commit (40003), which is safe to retry only because every
 * write is idempotent (idempotency key, content hash, and a retried call recognising its own
 * earlier commit). A COMMIT or ROLLBACK that failed without a SQLSTATE (the connection broke under
 * it) is an ambiguous commit too. Everything else is not retried.
 */
public final class TransientFailures {

  private static final Set<String> TRANSIENT_STATES =
      Set.of("40001", "40P01", "40003", "57P01", "57P02", "57P03", "53300");

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
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  static boolean isTransientState(String sqlState) {
    return TRANSIENT_STATES.contains(sqlState) || sqlState.startsWith("08");
  }

  /** The first SQLSTATE in the cause chain. */
  public static Optional<String> sqlState(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        return Optional.of(sql.getSQLState());
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return Optional.empty();
  }
}
