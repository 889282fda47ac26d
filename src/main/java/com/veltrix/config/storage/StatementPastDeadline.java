package com.veltrix.config.storage;

import java.sql.SQLTimeoutException;

/**
 * A statement made after its call's deadline, not sent ({@link DeadlineDataSource}). It carries the
 * SQLSTATE of the cancel it would have met at the database (57014), so that it is answered, counted
 * by the circuit breaker and left unretried as that cancel is ({@link TransientFailures}).
 */
final class StatementPastDeadline extends SQLTimeoutException {
  StatementPastDeadline() {
    super("the call's deadline passed before this statement was sent", "57014");
  }
}
