package com.veltrix.config.storage;

import com.veltrix.config.catalog.CallContext;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.postgresql.jdbc.PgStatement;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Bounds every statement of a call ({@link CallContext}) by the call's remaining time, in two
 * steps:
 *
 * <ol>
 *   <li>each statement gets what is left as its query timeout: at the deadline pgjdbc asks the
 *       database to cancel it (the PostgreSQL cancel protocol, which CockroachDB serves from
 *       v22.1), the statement fails with 57014 and the connection, healthy, goes back to the pool;
 *   <li>the connection gets the remaining time plus {@link #CANCEL_GRACE_MILLIS} as its network
 *       timeout (pgjdbc's socket timeout), so a database that stopped answering, and so cannot
 *       answer a cancel either, fails shortly after the deadline instead of hanging.
 * </ol>
 *
 * Before, the socket timeout alone enforced the deadline: every call that ran out of time inside
 * the database broke its connection, and the pool opened a new one (a backend fork on PostgreSQL, a
 * TLS handshake and authentication on CockroachDB): a client sending 2 ms deadlines broke 17
 * connections in one fault-suite scenario, the standard benchmark's 32 readers (250 ms budget each)
 * 178 over one run on a busy machine (docs/decisions.md). The pool restores the network timeout
 * when the connection comes back. The server side is bounded too ({@link DatabaseProperties}).
 */
class DeadlineDataSource extends DelegatingDataSource {

  /** How long after the deadline a connection may wait for the answer to its cancel. */
  static final long CANCEL_GRACE_MILLIS = 100;

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
    connection.setNetworkTimeout(
        DIRECT, (int) Math.min(Integer.MAX_VALUE, remainingMillis + CANCEL_GRACE_MILLIS));
    return (Connection)
        Proxy.newProxyInstance(
            DeadlineDataSource.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            new TimedStatements(connection, call));
  }

  /** Gives each statement the call's remaining time as its query timeout when it is created. */
  private record TimedStatements(Connection target, CallContext call) implements InvocationHandler {

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      Object result;
      try {
        result = method.invoke(target, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
      if (result instanceof Statement statement && statement.isWrapperFor(PgStatement.class)) {
        long millis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(call.remainingNanos()));
        statement.unwrap(PgStatement.class).setQueryTimeoutMs(millis);
      }
      return result;
    }
  }
}
