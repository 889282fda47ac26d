package com.veltrix.config.storage;

import java.sql.SQLTransientConnectionException;

/**
 * A connection was wanted after the call's deadline: the caller ran out of time, not the database.
 */
final class DeadlinePassed extends SQLTransientConnectionException {
  DeadlinePassed() {
    super("the call's deadline passed before the database was asked");
  }
}
