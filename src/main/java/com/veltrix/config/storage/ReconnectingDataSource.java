package com.veltrix.config.storage;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * What the pool opens physical connections with: on a refused or reset connection it tries again
 * every 10 ms for a short window, instead of leaving the pool's own exponential creation backoff
 * (10, 20, 40, 80, 160 ms ...) to decide when the first connection after a leader transition
 * appears. A 150 ms cut then costs about 150 ms, not the next backoff step (310 ms). Slow failures
 * (a database that accepts and never answers) are bounded by pgjdbc's loginTimeout instead.
 *
 * <p>It also says how long the oldest opening under way has been going ({@link #openingNanos}): a
 * call that waited for the pool while the pool could not get a connection for that long waited on
 * the database, not on this pod ({@link PoolQueue}).
 */
class ReconnectingDataSource extends DelegatingDataSource {

  private static final long PAUSE_MILLIS = 10;

  private final long windowNanos;

  /** When each opening under way began (System.nanoTime); HikariCP opens one at a time. */
  private final Set<long[]> underWay = ConcurrentHashMap.newKeySet();

  ReconnectingDataSource(DataSource target, Duration window) {
    super(target);
    this.windowNanos = window.toNanos();
  }

  @Override
  public Connection getConnection() throws SQLException {
    return retrying(() -> super.getConnection());
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    return retrying(() -> super.getConnection(username, password));
  }

  private interface Open {
    Connection open() throws SQLException;
  }

  /** How long the oldest opening under way has been going; 0 when none is. */
  long openingNanos() {
    long now = System.nanoTime();
    long longest = 0;
    for (long[] began : underWay) {
      longest = Math.max(longest, now - began[0]);
    }
    return longest;
  }

  private Connection retrying(Open open) throws SQLException {
    long[] began = {System.nanoTime()};
    underWay.add(began);
    try {
      return retrying(open, began[0] + windowNanos);
    } finally {
      underWay.remove(began);
    }
  }

  private static Connection retrying(Open open, long until) throws SQLException {
    while (true) {
      long attempt = System.nanoTime();
      try {
        return open.open();
      } catch (SQLException e) {
        boolean fast = System.nanoTime() - attempt < TimeUnit.MILLISECONDS.toNanos(100);
        if (!fast || !TransientFailures.isTransient(e) || System.nanoTime() > until) {
          throw e;
        }
        try {
          Thread.sleep(PAUSE_MILLIS);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }
}
