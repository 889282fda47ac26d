package com.veltrix.config.storage;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Gives every connection handed out for a call the call's remaining time as its network timeout
 * (pgjdbc applies it as the socket timeout, in milliseconds), so a query to a database that stopped
 * answering fails at the deadline instead of hanging. The pool restores the default when the
 * connection comes back.
 */
class DeadlineDataSource extends DelegatingDataSource {

  private static final ThreadLocal<Long> DEADLINE = new ThreadLocal<>();
  private static final Executor DIRECT = Runnable::run;

  DeadlineDataSource(DataSource target) {
    super(target);
  }

  /** Runs {@code work} with connections bounded by {@code deadlineNanoTime}. */
  static <T> T within(long deadlineNanoTime, java.util.function.Supplier<T> work) {
    Long previous = DEADLINE.get();
    DEADLINE.set(deadlineNanoTime);
    try {
      return work.get();
    } finally {
      if (previous == null) {
        DEADLINE.remove();
      } else {
        DEADLINE.set(previous);
      }
    }
  }

  @Override
  public Connection getConnection() throws SQLException {
    return bounded(super.getConnection());
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    return bounded(super.getConnection(username, password));
  }

  private static Connection bounded(Connection connection) throws SQLException {
    Long deadline = DEADLINE.get();
    if (deadline == null) {
      return connection;
    }
    long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    if (remainingMillis <= 0) {
      connection.close();
      throw new SQLTransientConnectionException("the call's deadline passed", "08001");
    }
    connection.setNetworkTimeout(DIRECT, (int) Math.min(Integer.MAX_VALUE, remainingMillis));
    return connection;
  }
}
