package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.veltrix.config.catalog.CallContext;
import com.veltrix.config.support.Await;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Sleep;
import com.veltrix.config.support.TestDatabase;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Calls queue for a connection in front of HikariCP, never inside it, on a real pool of a real
 * PostgreSQL; a wait ends at the call's deadline or the pool's connection timeout, as HikariCP's
 * own did, and says which ran out.
 */
class PoolQueueTest {

  private final HikariDataSource pool = new HikariDataSource();
  private final ExecutorService callers = Executors.newFixedThreadPool(8);

  PoolQueueTest() {
    pool.setJdbcUrl(TestDatabase.jdbcUrl());
    pool.setUsername("postgres");
    pool.setMaximumPoolSize(2);
  }

  @AfterEach
  void close() {
    callers.shutdownNow();
    pool.close();
  }

  @Test
  void callersBeyondThePoolWaitInTheQueueNotInHikari() throws Exception {
    pool.setConnectionTimeout(10_000);
    pool.getConnection().close(); // HikariCP starts its pool on first use
    PoolQueue queue = new PoolQueue(pool);
    MeterRegistry meters = new SimpleMeterRegistry();
    queue.bindTo(meters);
    CountDownLatch release = new CountDownLatch(1);
    List<Future<Integer>> answers = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      answers.add(
          callers.submit(
              () -> {
                try (Connection c = queue.getConnection()) {
                  release.await(5, TimeUnit.SECONDS);
                  return c.createStatement().executeQuery("SELECT 1").next() ? 1 : 0;
                }
              }));
    }
    Await.until(
        () -> queue.waiting() == 4 && pool.getHikariPoolMXBean().getActiveConnections() == 2);

    assertThat(pool.getHikariPoolMXBean().getThreadsAwaitingConnection()).isZero();
    assertThat(meters.get("veltrix.db.pool.waiting").gauge().value()).isEqualTo(4);

    release.countDown();
    for (Future<Integer> answer : answers) {
      assertThat(answer.get(5, TimeUnit.SECONDS)).isEqualTo(1);
    }
    assertThat(queue.waiting()).isZero();
  }

  @Test
  void aWaitEndsAtTheCallsDeadlineOrThePoolsTimeoutAndSaysWhich() throws Exception {
    pool.setConnectionTimeout(300);
    PoolQueue queue = new PoolQueue(pool);
    Connection first = queue.getConnection();
    Connection second = queue.getConnection();

    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
    assertThatThrownBy(() -> CallContext.run(deadline, () -> connect(queue)))
        .hasCauseInstanceOf(DeadlinePassed.class);
    long started = System.nanoTime();
    assertThatThrownBy(queue::getConnection)
        .isInstanceOfSatisfying(
            SQLTransientConnectionException.class,
            e -> {
              // a queue inside this pod: not the database's failure (TransientFailures)
              assertThat(e.getCause()).isNull();
              assertThat(e.getSQLState()).isNull();
              assertThat(e.getMessage()).contains("none of the pool's 2 connections");
            });
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isBetween(290L, 2000L);

    first.close();
    first.close(); // a second close gives back nothing more
    try (Connection third = queue.getConnection()) {
      assertThat(third.isValid(1)).isTrue();
      // the permit came back once: the queue, not HikariCP, refuses a third connection
      assertThatThrownBy(queue::getConnection).hasMessageContaining("none of the pool's");
    }
    second.close();
  }

  /**
   * With a permit free, the wait for HikariCP to open a connection ends at the call's deadline too,
   * not at the pool's connection timeout. After a cut every pooled connection is gone, a retry
   * keeps its permit and asks HikariCP, which opens connections one at a time: in the fault suite
   * such reads got their connection up to 72 ms after their 250 ms budget and answered 503 at
   * 281-436 ms instead of 250. Here nothing listens where the pool connects, and the pool's timeout
   * is two seconds.
   */
  @Test
  void theWaitForHikariToOpenAConnectionEndsAtTheCallsDeadline() throws Exception {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl("jdbc:postgresql://localhost:" + FreePort.find() + "/nothing");
    config.setMaximumPoolSize(2);
    config.setConnectionTimeout(2_000);
    config.setInitializationFailTimeout(-1); // starts without the database, as the service does
    try (HikariDataSource down = new HikariDataSource(config)) {
      PoolQueue queue = new PoolQueue(down);
      long started = System.nanoTime();
      long deadline = started + TimeUnit.MILLISECONDS.toNanos(100);
      assertThatThrownBy(() -> CallContext.run(deadline, () -> connect(queue)))
          .hasCauseInstanceOf(SQLException.class);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
          .as("ms until the call with 100 ms left was refused (the pool's timeout is 2,000)")
          .isLessThan(1_000);
    }
  }

  /**
   * A call's next attempt goes on with the permit its last attempt gave back, ahead of a caller
   * that queued meanwhile, who gets it when the call ends. Given back to the queue instead, the
   * permit went to the caller waiting first and the attempt waited behind it: here, behind a caller
   * that holds it past the call's deadline, so the attempt failed at that deadline.
   */
  @Test
  void aRetryKeepsItsPlaceAheadOfCallersThatCameAfterIt() throws Exception {
    pool.setConnectionTimeout(2_000);
    PoolQueue queue = new PoolQueue(pool);
    Connection other = queue.getConnection(); // one of the two permits, held throughout
    CountDownLatch firstAttemptOver = new CountDownLatch(1);
    CountDownLatch laterCallerQueued = new CountDownLatch(1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    Future<Integer> call =
        callers.submit(
            () ->
                CallContext.attempts(
                    deadline,
                    () -> {
                      connect(queue); // the first attempt: its connection closed, as on a 40001
                      firstAttemptOver.countDown();
                      await(laterCallerQueued);
                      // the second attempt, with the other caller queued for the permit
                      try (Connection c = queue.getConnection()) {
                        assertThat(c.isValid(1)).isTrue();
                        return queue.waiting(); // who is still queued while this attempt runs
                      } catch (SQLException e) {
                        throw new IllegalStateException(e);
                      }
                    }));
    await(firstAttemptOver);
    CountDownLatch callChecked = new CountDownLatch(1);
    Future<Boolean> later =
        callers.submit(
            () -> {
              try (Connection c = queue.getConnection()) {
                await(callChecked); // holds the permit, once it has it, until the call is checked
                return c.isValid(1);
              }
            });
    Await.until(() -> queue.waiting() == 1);
    laterCallerQueued.countDown();

    assertThat(call.get(5, TimeUnit.SECONDS))
        .as("callers still queued while the retry had its connection")
        .isEqualTo(1);
    callChecked.countDown();
    assertThat(later.get(5, TimeUnit.SECONDS)).as("served once the call ended").isTrue();
    assertThat(queue.waiting()).isZero();
    other.close();
    // every permit is back: both connections can be had at once
    try (Connection a = queue.getConnection();
        Connection b = queue.getConnection()) {
      assertThat(a.isValid(1) && b.isValid(1)).isTrue();
    }
  }

  /**
   * A call that waited for a connection while the pool had been trying to open one for longer than
   * {@link PoolQueue#STALLED_OPENING} waited on the database, as in a blackhole, where an opening
   * hangs until pgjdbc's login timeout: its failure is 08001, which the circuit breaker counts. A
   * call that waited while every connection was in use and none was being opened waited on this
   * pod. Openings here hang after the pool's first, until released.
   */
  @Test
  void aWaitOnAnOpeningThatHangsIsTheDatabasesFailure() throws Exception {
    CountDownLatch released = new CountDownLatch(1);
    ReconnectingDataSource reconnecting =
        new ReconnectingDataSource(openingAfterTheFirst(() -> await(released)), Duration.ZERO);
    HikariDataSource stalling = coldPool(reconnecting, 2);
    try {
      PoolQueue queue = new PoolQueue(stalling);
      Connection held = queue.getConnection();
      // the first call to wait makes HikariCP start opening the second connection, which hangs
      assertThatThrownBy(queue::getConnection).isInstanceOf(SQLTransientConnectionException.class);
      Await.until(() -> reconnecting.openingNanos() > PoolQueue.STALLED_OPENING);

      assertThatThrownBy(queue::getConnection)
          .isInstanceOfSatisfying(
              SQLTransientConnectionException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("08001");
                assertThat(e.getMessage()).contains("the pool has been opening a connection for");
                assertThat(TransientFailures.isDatabaseFailure(e)).isTrue();
                assertThat(TransientFailures.isTransient(e)).isTrue();
              });

      released.countDown();
      Await.until(() -> reconnecting.openingNanos() == 0);
      Connection second = queue.getConnection();
      assertThatThrownBy(queue::getConnection)
          .as("both connections in use, none being opened: a queue in this pod")
          .isInstanceOfSatisfying(
              SQLTransientConnectionException.class,
              e -> assertThat(TransientFailures.isDatabaseFailure(e)).isFalse());
      held.close();
      second.close();
    } finally {
      released.countDown();
      stalling.close();
    }
  }

  /**
   * A cold pod's first burst on busy cores: HikariCP opens one connection at a time, each slow (100
   * ms here) but finishing, and callers that run out of time meanwhile waited on this pod, not on
   * the database: none of their failures counts for the breaker. What is measured is the opening
   * under way, not the whole refill.
   */
  @Test
  void aBurstWaitingOnOpeningsThatFinishIsAQueueInThisPod() throws Exception {
    HikariDataSource cold =
        coldPool(
            new ReconnectingDataSource(
                openingAfterTheFirst(() -> Sleep.millis(100)), Duration.ZERO),
            6);
    try (cold) {
      PoolQueue queue = new PoolQueue(cold);
      queue.getConnection().close(); // HikariCP starts its pool with one connection
      List<Future<SQLException>> burst = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        burst.add(
            callers.submit(
                () -> {
                  try (Connection c = queue.getConnection()) {
                    Sleep.millis(500); // in use while the others wait
                    return null;
                  } catch (SQLException e) {
                    return e;
                  }
                }));
      }
      List<SQLException> failures = new ArrayList<>();
      for (Future<SQLException> call : burst) {
        SQLException failure = call.get(10, TimeUnit.SECONDS);
        if (failure != null) {
          failures.add(failure);
        }
      }

      assertThat(failures).as("callers that ran out of time while the pool opened").isNotEmpty();
      assertThat(failures)
          .allSatisfy(e -> assertThat(TransientFailures.isDatabaseFailure(e)).isFalse());
    }
  }

  /**
   * The test database, running {@code beforeOpening} before every opening but the first (HikariCP
   * opens its pool's first connection when it starts).
   */
  private static DataSource openingAfterTheFirst(Runnable beforeOpening) {
    AtomicInteger openings = new AtomicInteger();
    return new DelegatingDataSource(TestDatabase.unpooled()) {
      @Override
      public Connection getConnection(String username, String password) throws SQLException {
        if (openings.incrementAndGet() > 1) {
          beforeOpening.run();
        }
        return super.getConnection(username, password);
      }
    };
  }

  /** A pool of at most {@code size} that keeps one connection idle (the service keeps two). */
  private static HikariDataSource coldPool(DataSource opens, int size) {
    HikariDataSource pool = new HikariDataSource();
    pool.setUsername("postgres");
    pool.setDataSource(opens);
    pool.setMaximumPoolSize(size);
    pool.setMinimumIdle(1);
    pool.setConnectionTimeout(250);
    return pool;
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(5, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void connect(PoolQueue queue) {
    try (Connection c = queue.getConnection()) {
      c.isValid(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
