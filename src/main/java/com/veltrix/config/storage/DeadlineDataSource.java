package com.veltrix.config.storage;

import com.veltrix.config.catalog.CallContext;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.postgresql.jdbc.PgStatement;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Bounds every connection handed out for a call ({@link CallContext}) by the call's remaining time,
 * so a database that stopped answering fails the call at its deadline instead of hanging. How
 * depends on the time left when the connection is handed out:
 *
 * <ul>
 *   <li>{@link #CANCEL_WITHIN_MILLIS} or more: the remaining time, less up to {@link
 *       #RETRY_RESERVE_MILLIS} but never under a floor of twice the session's lock_timeout and a
 *       margin ({@link #minNetworkTimeoutMillis}), is the connection's network timeout (pgjdbc's
 *       socket timeout: no byte from the database for that long). A heavy listing that keeps
 *       streaming is not cut; a database that stalls is, and a connection that went silent (a
 *       database node lost without a FIN or a reset: its sockets never answer again) fails early
 *       enough for a call with the time to try once more on another one: a gRPC call with a 1 s
 *       deadline gives up at 850 ms, a REST call keeps its whole 250 ms.
 *   <li>less: each statement gets the remaining time as its query timeout, so at the deadline
 *       pgjdbc asks the database to cancel it (the PostgreSQL cancel protocol, which CockroachDB
 *       serves from v22.1); the statement fails with 57014 and the connection, healthy, goes back
 *       to the pool. The network timeout is the remaining time plus {@link #CANCEL_GRACE_MILLIS},
 *       for a database that cannot answer the cancel either.
 * </ul>
 *
 * Either way, a statement the call makes once its deadline has passed is not sent: it fails at once
 * ({@link DeadlinePassed#beforeStatement()}: the caller's time ran out, not the database, which
 * answered every statement it was sent; a writer queued behind the revision row's holder until its
 * deadline is contention, and must not open the circuit breaker). The check is made when the
 * statement is created, which Spring's templates do for every statement they run. Before, a call
 * whose earlier statements had used up its time still sent the next one, with a 1 ms query timeout:
 * in the fault suite, after a cut, a write group's transaction on a new session sent its append at
 * about +300 ms of a 250 ms budget, and its cancel (on PostgreSQL a new connection and a backend
 * fork, on the busy cores) answered at +519 ms.
 *
 * <p>A call with little time left is most often out of time for its own reasons (a tiny client
 * deadline, a wait for a pool connection), not because the database stalled, and breaking its
 * connection made the pool open a new one (a backend fork on PostgreSQL, a TLS handshake and
 * authentication on CockroachDB): a client sending 2 ms deadlines broke 17 pooled connections in
 * one fault-suite scenario. A query timeout for every call was tried and dropped: it bounds the
 * whole transfer, and 1,000-document listings of 64 KiB documents that stream past the 250 ms
 * budget under load were then cancelled (503) instead of answered. The pool restores the network
 * timeout when the connection comes back. The server side is bounded too ({@link
 * DatabaseProperties}).
 */
class DeadlineDataSource extends DelegatingDataSource {

  /** A call with less time than this left has its statements cancelled at its deadline. */
  static final long CANCEL_WITHIN_MILLIS = 100;

  /** How long after the deadline a connection may wait for the answer to its cancel. */
  static final long CANCEL_GRACE_MILLIS = 100;

  /**
   * The time a call keeps back from its connection's network timeout for another attempt: a point
   * read or a group's transaction takes a few milliseconds on a healthy connection, and one lost
   * node leaves two of every three connections healthy. Without it a call whose connection went
   * silent spent its whole deadline on it (the fault suite's lost node, a3).
   */
  static final long RETRY_RESERVE_MILLIS = 150;

  /** Time for a lock wait's end (55P03) to come back before the socket times out. */
  private static final long LOCK_WAIT_ANSWER_MILLIS = 50;

  private static final Executor DIRECT = Runnable::run;

  /**
   * The shortest network timeout the reserve leaves: a statement may wait up to the session's
   * lock_timeout for each lock it queues for (a writer behind the revision row's holder: first the
   * row's tuple lock, then the holder's transaction; on CockroachDB without a licence, a read of
   * the row behind its writer too), and a wait the database ends (55P03: contention, retried, not
   * the database failing) must not become a socket timeout (08006: a broken connection, counted by
   * the breaker). It is also well above a leader transition's stall (150 ms), which every
   * connection survives. A call with less than this keeps its whole remaining time, as a REST
   * call's 250 ms does.
   */
  private final long minNetworkTimeoutMillis;

  DeadlineDataSource(DataSource target, Duration lockTimeout) {
    super(target);
    this.minNetworkTimeoutMillis = 2 * lockTimeout.toMillis() + LOCK_WAIT_ANSWER_MILLIS;
  }

  @Override
  public Connection getConnection() throws SQLException {
    return bounded(super.getConnection());
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    return bounded(super.getConnection(username, password));
  }

  private Connection bounded(Connection connection) throws SQLException {
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
    boolean cancelAtDeadline = remainingMillis < CANCEL_WITHIN_MILLIS;
    connection.setNetworkTimeout(
        DIRECT,
        (int)
            Math.min(
                Integer.MAX_VALUE, networkTimeoutMillis(remainingMillis, minNetworkTimeoutMillis)));
    return ConnectionHook.around(connection, new CallStatements(call, cancelAtDeadline));
  }

  /**
   * The network timeout of a connection handed out with {@code remainingMillis} left: all of it,
   * less up to {@link #RETRY_RESERVE_MILLIS} above {@code floorMillis}.
   */
  static long networkTimeoutMillis(long remainingMillis, long floorMillis) {
    if (remainingMillis < CANCEL_WITHIN_MILLIS) {
      return remainingMillis + CANCEL_GRACE_MILLIS; // the cancel ends the statement first
    }
    return Math.min(remainingMillis, Math.max(floorMillis, remainingMillis - RETRY_RESERVE_MILLIS));
  }

  /**
   * Refuses a statement made after the call's deadline and, when {@code cancelAtDeadline}, gives
   * each statement the call's remaining time as its query timeout when it is created.
   */
  private record CallStatements(CallContext call, boolean cancelAtDeadline)
      implements ConnectionHook {

    @Override
    public Object handle(Method method, Object[] args, Connection target) throws Throwable {
      boolean makesStatement =
          switch (method.getName()) {
            case "createStatement", "prepareStatement", "prepareCall" -> true;
            default -> false;
          };
      if (!makesStatement) {
        return ConnectionHook.invoke(target, method, args);
      }
      long millis = TimeUnit.NANOSECONDS.toMillis(call.remainingNanos());
      if (millis < 1) {
        throw DeadlinePassed.beforeStatement();
      }
      Object result = ConnectionHook.invoke(target, method, args);
      if (cancelAtDeadline
          && result instanceof Statement statement
          && statement.isWrapperFor(PgStatement.class)) {
        statement.unwrap(PgStatement.class).setQueryTimeoutMs(millis);
      }
      return result;
    }
  }
}
