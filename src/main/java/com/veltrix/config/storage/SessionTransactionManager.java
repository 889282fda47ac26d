package com.veltrix.config.storage;

import java.sql.SQLException;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.transaction.TransactionManagerCustomizers;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.TransactionException;
import org.springframework.transaction.support.DefaultTransactionStatus;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Spring Boot's transaction manager ({@link JdbcTransactionManager}, with its customizers), except
 * that a rollback on a session that is gone is not a failure: the database ended the transaction
 * with the session (PostgreSQL at once, CockroachDB when the connection closes), and there is
 * nothing left to roll back. The transaction then fails with what ended the session (08006, 57P01,
 * ...), which the retry classifies ({@link TransientFailures}), instead of with the rollback's
 * "connection is closed", which Spring's {@code TransactionTemplate} logged at ERROR with a stack
 * trace ("Application exception overridden by rollback exception") for every write group a cut
 * caught. HikariCP's WARN still names each broken connection.
 */
@Component("transactionManager")
class SessionTransactionManager extends JdbcTransactionManager {

  private static final Logger log = LoggerFactory.getLogger(SessionTransactionManager.class);

  @Autowired
  SessionTransactionManager(
      DataSource dataSource, ObjectProvider<TransactionManagerCustomizers> customizers) {
    this(dataSource);
    customizers.ifAvailable(all -> all.customize(this));
  }

  SessionTransactionManager(DataSource dataSource) {
    super(dataSource);
  }

  @Override
  protected void doRollback(DefaultTransactionStatus status) {
    try {
      super.doRollback(status);
    } catch (TransactionException | DataAccessException e) {
      if (!sessionGone()) {
        throw e;
      }
      log.debug("No rollback: the session ended, and its transaction with it ({})", e.toString());
    }
  }

  /**
   * Whether the transaction's connection is closed: by HikariCP once it marked the connection
   * broken (SQLSTATE class 08, 57P01-57P03 and a few more), by pgjdbc after an I/O error.
   */
  private boolean sessionGone() {
    if (TransactionSynchronizationManager.getResource(obtainDataSource())
        instanceof ConnectionHolder holder) {
      try {
        return holder.getConnection().isClosed();
      } catch (SQLException e) {
        return true;
      }
    }
    return false;
  }
}
