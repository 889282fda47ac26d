package com.veltrix.config.catalog.write;

import static com.veltrix.config.catalog.write.WritePathTest.call;
import static com.veltrix.config.catalog.write.WritePathTest.within;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.support.Await;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * After a group of several writes the committer waits a little for the writers it answered ({@code
 * veltrix.writes.group-linger}, 1 s here so that the test can space its writes; at most half the
 * last group's transaction and never past a queued request's deadline less 50 ms).
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"management.server.port=0", "veltrix.writes.group-linger=1s"})
class GroupLingerTest {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
    FreePort.register(registry, "grpc.server.port");
  }

  @Autowired ConfigWriter writer;
  @Autowired WriteGroups groups;
  @Autowired JdbcClient jdbc;

  @BeforeEach
  void reset() {
    TestDatabase.reset(jdbc);
  }

  @Test
  void theWritersJustAnsweredGoInTheNextGroupTogether() throws Exception {
    List<Future<BatchResult>> answered = aGroupOfThreeThatWaitedOnTheRow();
    long group = answered.get(0).get(10, TimeUnit.SECONDS).revision();

    // its writers send their next writes a twentieth of a second apart
    List<Future<BatchResult>> next = new ArrayList<>();
    for (String id : List.of("d", "e", "f")) {
      next.add(call(() -> write(id)));
      Thread.sleep(50);
    }

    long revision = next.get(0).get(10, TimeUnit.SECONDS).revision();
    assertThat(revision).isEqualTo(group + 1);
    for (Future<BatchResult> write : next) {
      assertThat(write.get(10, TimeUnit.SECONDS).revision())
          .as("committed in one group, at one revision")
          .isEqualTo(revision);
    }
  }

  @Test
  void theWaitEndsBeforeAQueuedWriteRunsOutOfTime() throws Exception {
    List<Future<BatchResult>> answered = aGroupOfThreeThatWaitedOnTheRow();
    answered.get(0).get(10, TimeUnit.SECONDS);

    // one writer comes back, with 150 ms to live; the committer would wait 400 ms for three
    Future<BatchResult> shortLived = within(150, () -> write("short"));

    assertThat(shortLived.get(10, TimeUnit.SECONDS).results()).hasSize(1);
    assertThat(
            jdbc.sql("SELECT count(*) FROM documents WHERE id = 'short'")
                .query(Long.class)
                .single())
        .isEqualTo(1);
  }

  /**
   * Three writes committed as one group whose transaction waited 800 ms on the revision row held by
   * another session (so the committer may wait up to 400 ms after it); their futures.
   */
  private List<Future<BatchResult>> aGroupOfThreeThatWaitedOnTheRow() throws Exception {
    List<Future<BatchResult>> three = new ArrayList<>();
    try (Connection first = connection();
        Connection second = connection()) {
      // the committer waits on the row with a write of its own ...
      first.createStatement().execute("UPDATE revision_counter SET revision = revision");
      Future<BatchResult> alone = call(() -> write("alone"));
      Await.until(() -> groups.queued() == 0 && lockWaiters() == 1);
      // ... three more queue for the next group, and another session queues on the row
      for (String id : List.of("a", "b", "c")) {
        three.add(call(() -> write(id)));
      }
      Await.until(() -> groups.queued() == 3);
      Future<?> takesTheRow =
          call(
              () ->
                  second
                      .createStatement()
                      .execute("UPDATE revision_counter SET revision = revision"));
      Await.until(() -> lockWaiters() == 2);
      first.rollback(); // the lone write commits; the group of three waits behind the session
      alone.get(10, TimeUnit.SECONDS);
      takesTheRow.get(10, TimeUnit.SECONDS);
      Await.until(() -> groups.queued() == 0 && lockWaiters() == 1);
      Thread.sleep(800);
      second.rollback();
    }
    return three;
  }

  private static Connection connection() throws Exception {
    Connection c = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "");
    c.setAutoCommit(false);
    return c;
  }

  private BatchResult write(String id) {
    return WritePathTest.write(writer, id);
  }

  private long lockWaiters() {
    return WritePathTest.lockWaiters(jdbc);
  }
}
