package com.veltrix.config.storage;

import com.veltrix.config.DaemonThreads;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Prunes history and idempotency records, in small transactions that never take the revision row.
 *
 * <p>The horizon ({@code history_horizon.revision}) is the oldest revision whose state can still be
 * read: the newest revision all of whose versions were written before {@code
 * veltrix.history.retain-for}. Reads before it are refused (410 / FAILED_PRECONDITION). A version
 * is pruned once its successor was written at or before the horizon: the state at any revision from
 * the horizon on never needs it, and the current version of a document has no successor, so it is
 * kept forever.
 *
 * <p>Each pass either moves the horizon (when pruning has caught up with it) or, once {@code grace}
 * has passed since it moved, deletes the versions it made obsolete: the feed index is walked over
 * the revisions in between (each version row is visited once, by its successor), a few hundred rows
 * per transaction, each transaction also moving {@code pruned_through} with a compare-and-set, so
 * several pods may run passes at once without doing the work twice. The grace period lets a read
 * that saw the old horizon (a manifest stream, a page in flight) finish before its rows go.
 */
@Component
class HistoryRetention implements SmartInitializingSingleton, DisposableBean {

  private static final Logger log = LoggerFactory.getLogger(HistoryRetention.class);

  /** Horizon scans per pass: enough to keep up with far more than 1.2 million versions a day. */
  private static final int MAX_SCANS = 200;

  private final JdbcClient jdbc;
  private final TransactionRunner runner;
  private final DatabaseMigrations migrations;
  private final RetentionProperties properties;
  private final Clock clock;
  private final Counter versionsPruned;
  private final MeterRegistry meters;
  private final ScheduledExecutorService executor = DaemonThreads.scheduled("history-retention", 1);

  HistoryRetention(
      JdbcClient jdbc,
      TransactionRunner runner,
      DatabaseMigrations migrations,
      RetentionProperties properties,
      Clock clock,
      MeterRegistry meters) {
    this.jdbc = jdbc;
    this.runner = runner;
    this.migrations = migrations;
    this.properties = properties;
    this.clock = clock;
    this.versionsPruned = meters.counter("veltrix.retention.pruned", "what", "versions");
    this.meters = meters;
  }

  /** Starts the passes ({@code prune-every: 0} turns them off: tests run them by hand). */
  @Override
  public void afterSingletonsInstantiated() {
    long every = properties.history().pruneEvery().toMillis();
    if (every > 0) {
      executor.scheduleWithFixedDelay(this::scheduledPass, every, every, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void destroy() {
    executor.shutdownNow();
  }

  private void scheduledPass() {
    try {
      if (migrations.migrated()) {
        pass();
      }
    } catch (RuntimeException e) {
      log.warn(
          "Retention pass failed, trying again in {}: {}",
          properties.history().pruneEvery(),
          e.toString());
    }
  }

  /** The persisted horizon. */
  record Horizon(long revision, long prunedThrough, Instant advancedAt) {}

  Horizon horizon() {
    return runner.read(
        () ->
            jdbc.sql(
                    "SELECT revision, pruned_through, advanced_at FROM history_horizon WHERE id = 1")
                .query(
                    (rs, n) ->
                        new Horizon(
                            rs.getLong("revision"),
                            rs.getLong("pruned_through"),
                            rs.getTimestamp("advanced_at").toInstant()))
                .single());
  }

  /** One pass: move the horizon or prune up to it, then expire idempotency records. */
  void pass() {
    Instant now = clock.instant();
    Horizon horizon = horizon();
    if (horizon.prunedThrough() < horizon.revision()) {
      if (!Duration.between(horizon.advancedAt(), now)
          .minus(properties.history().grace())
          .isNegative()) {
        prune(horizon);
      }
    } else {
      advance(horizon, now.minus(properties.history().retainFor()), now);
    }
    expireIdempotencyRecords(now.minus(properties.idempotency().retainFor()));
    expire(
        "revision-times",
        // below the horizon a time resolves to a revision that is not retained (410) either way
        """
        DELETE FROM revision_times
         WHERE revision IN (SELECT revision FROM revision_times
                             WHERE revision < :horizon ORDER BY revision LIMIT :batch)
        """,
        "horizon",
        horizon.revision());
    expire(
        "schedules",
        // finished schedules are kept as long as history: what wrote a version, and when
        """
        DELETE FROM schedules
         WHERE id IN (SELECT id FROM schedules
                       WHERE status IN ('APPLIED', 'FAILED', 'CANCELLED') AND apply_at < :cutoff
                       LIMIT :batch)
        """,
        "cutoff",
        Timestamp.from(now.minus(properties.history().retainFor())));
  }

  /** Deletes what {@code sql} selects, {@code batch} rows a transaction, until none is left. */
  private void expire(String what, String sql, String name, Object value) {
    int batch = properties.history().batch();
    int deleted;
    do {
      deleted =
          runner.maintenance(() -> jdbc.sql(sql).param(name, value).param("batch", batch).update());
      meters.counter("veltrix.retention.pruned", "what", what).increment(deleted);
    } while (deleted >= batch);
  }

  /** One version row as the horizon scan and the pruning see it. */
  private record Row(long revision, String kind, String id, long version, Instant updatedAt) {}

  /**
   * The first {@code maxRows} version rows after {@code after} (through {@code through}), in
   * revision order: one ordered scan of the feed index per shard, as the change feed reads it.
   */
  private static final String NEXT_ROWS =
      JdbcCatalogStore.firstRowsOfEveryShard("revision, kind, id, version, updated_at")
          + " ORDER BY revision LIMIT :maxRows";

  private static final RowMapper<Row> ROW =
      (rs, n) ->
          new Row(
              rs.getLong("revision"),
              rs.getString("kind"),
              rs.getString("id"),
              rs.getLong("version"),
              rs.getTimestamp("updated_at").toInstant());

  /** Every version row of one revision (at most one group: 1,000 writes). */
  private List<Row> oneRevision(long revision) {
    return nextRows(revision - 1, revision, Integer.MAX_VALUE);
  }

  private List<Row> nextRows(long after, long through, int maxRows) {
    return runner.read(
        () ->
            jdbc.sql(NEXT_ROWS)
                .param("after", after)
                .param("through", through)
                .param("maxRows", maxRows)
                .query(ROW)
                .list());
  }

  /**
   * Moves the horizon to the newest revision all of whose versions were written before {@code
   * cutoff} (writers' clocks are not perfectly ordered, so the scan stops at the first row written
   * at or after it).
   */
  private void advance(Horizon horizon, Instant cutoff, Instant now) {
    int batch = properties.history().batch();
    long candidate = horizon.revision();
    List<Row> oldest = nextRows(candidate, Long.MAX_VALUE, 1);
    if (oldest.isEmpty() || !oldest.get(0).updatedAt().isBefore(cutoff)) {
      return; // the oldest retained write is still young: nothing to do (the usual pass)
    }
    for (int scan = 0; scan < MAX_SCANS; scan++) {
      List<Row> rows = nextRows(candidate, Long.MAX_VALUE, batch);
      if (rows.isEmpty()) {
        break;
      }
      Row young =
          rows.stream().filter(r -> !r.updatedAt().isBefore(cutoff)).findFirst().orElse(null);
      if (young != null) {
        candidate = Math.max(candidate, young.revision() - 1);
        break;
      }
      long last = rows.get(rows.size() - 1).revision();
      boolean truncated = rows.size() >= batch;
      if (!truncated) {
        candidate = last;
        break;
      }
      if (last - 1 <= candidate) { // one revision larger than the batch: check it whole
        if (oneRevision(last).stream().anyMatch(r -> !r.updatedAt().isBefore(cutoff))) {
          break;
        }
        candidate = last;
      } else {
        candidate = last - 1;
      }
    }
    if (candidate <= horizon.revision()) {
      return;
    }
    long from = horizon.revision();
    long to = candidate;
    int moved =
        runner.maintenance(
            () ->
                jdbc.sql(
                        """
                        UPDATE history_horizon
                           SET revision = :to, advanced_at = :now
                         WHERE id = 1 AND revision = :from AND pruned_through = :from
                        """)
                    .param("to", to)
                    .param("now", Timestamp.from(now))
                    .param("from", from)
                    .update());
    if (moved == 1) {
      log.info(
          "History horizon moved from revision {} to {} (retain-for {})",
          from,
          to,
          properties.history().retainFor());
    }
  }

  /** Deletes, a batch per transaction, every version superseded at or before the horizon. */
  private void prune(Horizon horizon) {
    int batch = properties.history().batch();
    long from = horizon.prunedThrough();
    long total = 0;
    while (from < horizon.revision()) {
      List<Row> rows = nextRows(from, horizon.revision(), batch);
      long to;
      if (rows.isEmpty() || rows.size() < batch) {
        to = horizon.revision();
      } else {
        long last = rows.get(rows.size() - 1).revision();
        if (last - 1 > from) {
          to = last - 1; // the last revision may be cut by the row cap: it comes next time
        } else {
          to = last; // one revision larger than the batch: whole
          rows = oneRevision(last);
        }
      }
      long through = to;
      List<Row> successors =
          rows.stream()
              .filter(r -> r.revision() <= through && r.version() > 1)
              .sorted(Comparator.comparing(Row::kind).thenComparing(Row::id))
              .toList();
      long start = from;
      int deleted;
      try {
        deleted =
            runner.maintenance(
                () -> {
                  int n = deletePredecessors(successors);
                  int moved =
                      jdbc.sql(
                              """
                            UPDATE history_horizon SET pruned_through = :to
                             WHERE id = 1 AND pruned_through = :from
                            """)
                          .param("to", through)
                          .param("from", start)
                          .update();
                  if (moved != 1) {
                    throw new LostRace();
                  }
                  return n;
                });
      } catch (LostRace e) {
        return; // another pod is pruning this range
      }
      total += deleted;
      versionsPruned.increment(deleted);
      from = to;
    }
    if (total > 0) {
      log.info("Pruned {} versions superseded at or before revision {}", total, horizon.revision());
    }
  }

  private int deletePredecessors(List<Row> successors) {
    if (successors.isEmpty()) {
      return 0;
    }
    List<String> kinds = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    List<Long> versions = new ArrayList<>();
    for (Row r : successors) {
      kinds.add(r.kind());
      ids.add(r.id());
      versions.add(r.version() - 1);
    }
    return jdbc.sql(
            """
            DELETE FROM document_versions
             WHERE (kind, id, version) IN (
                   SELECT r.kind, r.id, r.version
                     FROM unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[]),
                                 CAST(:versions AS BIGINT[])) AS r (kind, id, version))
            """)
        .param("kinds", kinds.toArray(String[]::new))
        .param("ids", ids.toArray(String[]::new))
        .param("versions", versions.toArray(Long[]::new))
        .update();
  }

  private void expireIdempotencyRecords(Instant cutoff) {
    expire(
        "idempotency-records",
        """
        DELETE FROM idempotency_records
         WHERE idempotency_key IN (
               SELECT idempotency_key FROM idempotency_records
                WHERE created_at < :cutoff
                LIMIT :batch)
        """,
        "cutoff",
        Timestamp.from(cutoff));
  }

  /** Another pod pruned the same range first: this transaction rolls back, the pass ends. */
  private static final class LostRace extends RuntimeException {
    LostRace() {
      super("another pod pruned this range", null, false, false);
    }
  }
}
