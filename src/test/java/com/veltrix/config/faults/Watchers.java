package com.veltrix.config.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.WatchChangesRequest;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.support.Tokens;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * gRPC watchers as Flink consumers run them: one per instance, each resuming from its last complete
 * revision after any disconnect (on another instance if its own is gone). A revision is complete
 * once an event of a later revision or a PROGRESS event arrives; its events are then recorded once.
 * {@link #check} compares what every watcher recorded with the database: every revision exactly
 * once, in order, with exactly its events.
 */
final class Watchers implements AutoCloseable {

  private final List<Watcher> watchers = new ArrayList<>();
  private volatile boolean running = true;

  Watchers(List<Supplier<Instance>> targets, long afterRevision) {
    for (int i = 0; i < targets.size(); i++) {
      Watcher w = new Watcher("watcher-" + i, targets.get(i), afterRevision);
      watchers.add(w);
      w.connect();
    }
  }

  /** Waits until every watcher has completed {@code revision}, then checks them all. */
  void check(JdbcClient db, long throughRevision) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (Watcher w : watchers) {
      while (w.completeThrough() < throughRevision) {
        assertThat(System.nanoTime())
            .as(
                w.name
                    + " reaches revision "
                    + throughRevision
                    + " (at "
                    + w.completeThrough()
                    + ")")
            .isLessThan(deadline);
        Thread.sleep(20);
      }
    }
    Map<Long, List<String>> expected = new TreeMap<>();
    long from = watchers.get(0).from;
    db.sql(
            "SELECT revision, kind, id, version FROM document_versions"
                + " WHERE revision > :from AND revision <= :through ORDER BY revision, kind, id")
        .param("from", from)
        .param("through", throughRevision)
        .query(
            rs -> {
              expected
                  .computeIfAbsent(rs.getLong("revision"), r -> new ArrayList<>())
                  .add(
                      rs.getString("kind")
                          + "/"
                          + rs.getString("id")
                          + "@"
                          + rs.getLong("version"));
            });
    for (Watcher w : watchers) {
      Map<Long, List<String>> seen;
      synchronized (w) {
        seen = new LinkedHashMap<>(w.complete);
      }
      List<Long> order = new ArrayList<>(seen.keySet());
      assertThat(order).as(w.name + " revisions in order").isSorted();
      Map<Long, List<String>> upTo = new TreeMap<>();
      seen.forEach(
          (r, events) -> {
            if (r <= throughRevision) {
              upTo.put(r, events);
            }
          });
      assertThat(upTo)
          .as(w.name + " every revision exactly once, with its events")
          .isEqualTo(expected);
    }
  }

  int reconnects() {
    return watchers.stream().mapToInt(w -> w.reconnects).sum();
  }

  @Override
  public void close() {
    running = false;
  }

  private final class Watcher {
    final String name;
    final Supplier<Instance> target;
    final long from;
    final Map<Long, List<String>> complete = new LinkedHashMap<>();
    long completeThrough;
    long pendingRevision = -1;
    List<String> pending = new ArrayList<>();
    int reconnects;

    Watcher(String name, Supplier<Instance> target, long from) {
      this.name = name;
      this.target = target;
      this.from = from;
      this.completeThrough = from;
    }

    synchronized long completeThrough() {
      return completeThrough;
    }

    void connect() {
      if (!running) {
        return;
      }
      long after;
      synchronized (this) {
        after = completeThrough;
        pendingRevision = -1;
        pending = new ArrayList<>();
      }
      Instance at = target.get();
      ConfigServiceGrpc.newStub(at.channel)
          .withCallCredentials(Tokens.bearer(Tokens.admin()))
          .watchChanges(
              WatchChangesRequest.newBuilder().setAfterRevision(after).build(),
              new StreamObserver<>() {
                @Override
                public void onNext(WatchChangesResponse event) {
                  received(event);
                }

                @Override
                public void onError(Throwable t) {
                  reconnect();
                }

                @Override
                public void onCompleted() {
                  reconnect();
                }
              });
    }

    private void reconnect() {
      synchronized (this) {
        reconnects++;
      }
      if (running) {
        Thread t =
            new Thread(
                () -> {
                  try {
                    Thread.sleep(100);
                  } catch (InterruptedException e) {
                    return;
                  }
                  connect();
                },
                name + "-reconnect");
        t.setDaemon(true);
        t.start();
      }
    }

    private synchronized void received(WatchChangesResponse event) {
      boolean progress = event.getType() == WatchChangesResponse.ChangeType.CHANGE_TYPE_PROGRESS;
      long revision = event.getRevision();
      if (pendingRevision >= 0 && (progress || revision > pendingRevision)) {
        complete.merge(
            pendingRevision,
            pending,
            (a, b) -> {
              throw new AssertionError(name + " completed revision " + pendingRevision + " twice");
            });
        completeThrough = pendingRevision;
        pendingRevision = -1;
        pending = new ArrayList<>();
      }
      if (progress) {
        completeThrough = Math.max(completeThrough, revision);
        return;
      }
      if (revision <= completeThrough) {
        throw new AssertionError(name + " got revision " + revision + " again after completing it");
      }
      pendingRevision = revision;
      pending.add(
          event.getKind().name().substring("CONFIG_KIND_".length())
              + "/"
              + event.getId()
              + "@"
              + event.getVersion());
    }
  }
}
