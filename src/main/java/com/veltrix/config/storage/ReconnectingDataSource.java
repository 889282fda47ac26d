package com.veltrix.config.storage;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * What the pool opens physical connections with: on a refused or reset connection it tries again
 * every 10 ms for a short window, instead of leaving the pool's own exponential creation backoff
 * (10, 20, 40, 80, 160 ms ...) to decide when the first connection after a leader transition
 * appears. A 150 ms cut then costs about 150 ms, not the next backoff step (310 ms). Slow failures
 * (a database that accepts and never answers) are bounded by pgjdbc's loginTimeout instead.
 */
class ReconnectingDataSource extends DelegatingDataSource {

  private static final long PAUSE_MILLIS = 10;

  private final long windowNanos;

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

  private Connection retrying(Open open) throws SQLException {
    long until = System.nanoTime() + windowNanos;
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
