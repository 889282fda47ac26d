package com.veltrix.config.storage;

import java.sql.SQLTransientConnectionException;

/**
 * The call's deadline passed before the database was asked: for a connection, or for a statement
 * ({@link DeadlineDataSource}). The caller ran out of time, not the database, which answered
 * everything it was sent; a call queued on the revision row behind another writer ends this way.
 */
final class DeadlinePassed extends SQLTransientConnectionException {

  DeadlinePassed() {
    this("the call's deadline passed before the database was asked");
  }

  private DeadlinePassed(String message) {
    super(message);
  }

  /** A statement that was to be sent after the call's deadline, and was not. */
  static DeadlinePassed beforeStatement() {
    return new DeadlinePassed("the call's deadline passed before this statement was sent");
  }
}
