package com.veltrix.config.storage;

import java.sql.Connection;
import java.sql.SQLException;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * A Java migration that rewrites rows in transactions of its own, a batch each, committed by {@link
 * #migrate(Connection)}, so that on CockroachDB (which runs migrations outside transactions) no
 * transaction grows with the table. It must be safe to run again from the start: Flyway records it
 * only once it has run to the end.
 */
public abstract class BatchedMigration extends BaseJavaMigration {

  @Override
  public final boolean canExecuteInTransaction() {
    return false; // it commits its own batches
  }

  @Override
  public final void migrate(Context context) throws SQLException {
    Connection connection = context.getConnection();
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try {
      migrate(connection);
      connection.commit();
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  /** Rewrites what it must on {@code connection} (not in autocommit), committing each batch. */
  protected abstract void migrate(Connection connection) throws SQLException;
}
