package com.veltrix.config.storage;

import com.veltrix.config.catalog.CallContext;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Gives every connection handed out for a call ({@link CallContext}) the call's remaining time as
 * its network timeout (pgjdbc applies it as the socket timeout, in milliseconds), so a query to a
 * database that stopped answering fails at the deadline instead of hanging. The pool restores the
 * default when the connection comes back. The server side is bounded too ({@link
 * DatabaseProperties}): a query whose client gave up is cancelled by the database.
 */
class DeadlineDataSource extends DelegatingDataSource {

  private static final Executor DIRECT = Runnable::run;

  DeadlineDataSource(DataSource target) {
    super(target);
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
    CallContext call = CallContext.current();
    if (call == null) {
      return connection;
    }
    long remainingNanos = call.remainingNanos();
    call.connectionHandedOut(remainingNanos);
    long remainingMillis = TimeUnit.NANOSECONDS.toMillis(remainingNanos);
    if (remainingMillis <= 0) {
      connection.close();
      throw new DeadlinePassed();
    }
    connection.setNetworkTimeout(DIRECT, (int) Math.min(Integer.MAX_VALUE, remainingMillis));
    return connection;
  }
}
