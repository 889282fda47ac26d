package com.veltrix.config.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.catalog.schedule.Schedule;
import com.veltrix.config.catalog.schedule.ScheduleStore;
import com.veltrix.config.catalog.schedule.ScheduledWrites;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Schedules in SQL. No statement here touches the revision row: applying a schedule is an ordinary
 * batch write; the rows of {@code schedules} only record what happened. Every statement is a
 * single-row write or an index scan of {@code schedules_by_status} / {@code schedules_by_time}.
 */
@Repository
class JdbcScheduleStore implements ScheduleStore {

  private static final String COLUMNS =
      "id, apply_at, status, description, writes, created_by, created_at, request_id, revision,"
          + " problem, finished_at, finished_by, finished_request_id";

  private final JdbcClient jdbc;
  private final TransactionRunner runner;
  private final ObjectMapper json;
  private final RowMapper<Schedule> rows;

  JdbcScheduleStore(JdbcClient jdbc, TransactionRunner runner, ObjectMapper json) {
    this.jdbc = jdbc;
    this.runner = runner;
    this.json = json;
    this.rows = this::schedule;
  }

  @Override
  public Stored insert(Schedule s, Optional<String> idempotencyKey, String requestHash) {
    return runner.read(
        () -> {
          // DO NOTHING without a target covers both the id (a retried insert whose reply was
          // lost) and the creator's key (a replay)
          int inserted =
              jdbc.sql(
                      """
                      INSERT INTO schedules
                          (id, apply_at, status, description, writes, write_count, created_by,
                           created_at, request_id, idempotency_key, request_hash)
                      VALUES (:id, :applyAt, 'PENDING', :description, :writes, :count, :createdBy,
                              :createdAt, :requestId, :key, :hash)
                      ON CONFLICT DO NOTHING
                      """)
                  .param("id", s.id())
                  .param("applyAt", Timestamp.from(s.applyAt()))
                  .param("description", s.description())
                  .param("writes", ScheduledWrites.toJson(s.writes()))
                  .param("count", s.writes().size())
                  .param("createdBy", s.createdBy())
                  .param("createdAt", Timestamp.from(s.createdAt()))
                  .param("requestId", s.requestId())
                  .param("key", idempotencyKey.orElse(null))
                  .param("hash", requestHash)
                  .update();
          Optional<Stored> mine = stored("id = :id", s.id(), null, null);
          if (inserted == 1 || mine.isPresent()) {
            return mine.map(m -> new Stored(m.schedule(), m.requestHash(), true)).orElseThrow();
          }
          return stored(
                  "created_by = :createdBy AND idempotency_key = :key",
                  null,
                  s.createdBy(),
                  idempotencyKey.get())
              .orElseThrow(
                  () -> new IllegalStateException("schedule insert conflicted on nothing"));
        });
  }

  private Optional<Stored> stored(String where, String id, String createdBy, String key) {
    return jdbc.sql("SELECT " + COLUMNS + ", request_hash FROM schedules WHERE " + where)
        .param("id", id)
        .param("createdBy", createdBy)
        .param("key", key)
        .query((rs, n) -> new Stored(schedule(rs, n), rs.getString("request_hash"), false))
        .optional();
  }

  @Override
  public Optional<Schedule> find(String id) {
    return runner.read(
        () ->
            jdbc.sql("SELECT " + COLUMNS + " FROM schedules WHERE id = :id")
                .param("id", id)
                .query(rows)
                .optional());
  }

  @Override
  public List<Schedule> list(
      Optional<Schedule.Status> status,
      Optional<Instant> from,
      Optional<Instant> until,
      Optional<Cursor> after,
      int limit) {
    String sql =
        "SELECT "
            + COLUMNS
            + " FROM schedules WHERE TRUE"
            + (status.isPresent() ? " AND status = :status" : "")
            + (from.isPresent() ? " AND apply_at >= :from" : "")
            + (until.isPresent() ? " AND apply_at < :until" : "")
            + (after.isPresent() ? " AND (apply_at, id) > (:afterAt, :afterId)" : "")
            + " ORDER BY apply_at, id LIMIT :limit";
    return runner.read(
        () ->
            jdbc.sql(sql)
                .param("status", status.map(Enum::name).orElse(null))
                .param("from", from.map(Timestamp::from).orElse(null))
                .param("until", until.map(Timestamp::from).orElse(null))
                .param("afterAt", after.map(c -> Timestamp.from(c.applyAt())).orElse(null))
                .param("afterId", after.map(Cursor::id).orElse(null))
                .param("limit", limit)
                .query(rows)
                .list());
  }

  @Override
  public List<Schedule> due(int limit) {
    return runner.read(
        () ->
            jdbc.sql(
                    "SELECT "
                        + COLUMNS
                        + " FROM schedules WHERE status = 'PENDING'"
                        // now(), not clock_timestamp(): a stable function bounds the index
                        // scan on both databases, a volatile one only filters it
                        + " AND apply_at <= now() ORDER BY apply_at, id LIMIT :limit")
                .param("limit", limit)
                .query(rows)
                .list());
  }

  @Override
  public Optional<Duration> nextDueIn() {
    return runner.read(
        () ->
            jdbc.sql(
                    "SELECT min(apply_at) AS next, now() AS now FROM schedules"
                        + " WHERE status = 'PENDING'")
                .query(
                    (rs, n) -> {
                      Timestamp next = rs.getTimestamp("next");
                      return next == null
                          ? Optional.<Duration>empty()
                          : Optional.of(
                              Duration.between(
                                  rs.getTimestamp("now").toInstant(), next.toInstant()));
                    })
                .single());
  }

  @Override
  public List<Schedule> pendingUntil(Instant until) {
    return runner.read(
        () ->
            jdbc.sql(
                    "SELECT "
                        + COLUMNS
                        + " FROM schedules WHERE status = 'PENDING' AND apply_at <= :until"
                        + " ORDER BY apply_at, id LIMIT 1000")
                .param("until", Timestamp.from(until))
                .query(rows)
                .list());
  }

  @Override
  public boolean markApplied(String id, long revision, String by) {
    return runner.read(
            () ->
                jdbc.sql(
                        """
                        UPDATE schedules
                           SET status = 'APPLIED', revision = :revision,
                               finished_at = clock_timestamp(), finished_by = :by,
                               finished_request_id = id
                         WHERE id = :id AND status = 'PENDING'
                        """)
                    .param("id", id)
                    .param("revision", revision)
                    .param("by", by)
                    .update())
        == 1;
  }

  /**
   * The idempotency record claims the key the schedule's batch is written under; the update runs
   * only if the claim succeeded. So a batch committed first makes the claim (and the update) fail,
   * and a claim made first makes the batch's replay check fail with a different request hash.
   */
  @Override
  public boolean finish(
      String id,
      String applyKey,
      Schedule.Status status,
      Optional<Schedule.Problem> problem,
      String by,
      String requestId) {
    return runner.read(
            () ->
                jdbc.sql(
                        """
                        WITH k AS (
                               INSERT INTO idempotency_records
                                   (idempotency_key, request_hash, revision, results, created_at)
                               VALUES (:key, :hash, 0, '[]', clock_timestamp())
                               ON CONFLICT (idempotency_key) DO NOTHING
                               RETURNING 1)
                        UPDATE schedules
                           SET status = :status, problem = :problem,
                               finished_at = clock_timestamp(), finished_by = :by,
                               finished_request_id = :requestId
                         WHERE id = :id AND status = 'PENDING' AND EXISTS (SELECT 1 FROM k)
                        """)
                    .param("key", applyKey)
                    .param("hash", "schedule " + status.name().toLowerCase())
                    .param("status", status.name())
                    .param("problem", problem.map(this::problemJson).orElse(null))
                    .param("by", by)
                    .param("requestId", requestId)
                    .param("id", id)
                    .update())
        == 1;
  }

  @Override
  public long pendingCount() {
    return runner.read(
        () ->
            jdbc.sql("SELECT count(*) FROM schedules WHERE status = 'PENDING'")
                .query(Long.class)
                .single());
  }

  private Schedule schedule(ResultSet rs, int n) throws SQLException {
    long revision = rs.getLong("revision");
    boolean hasRevision = !rs.wasNull();
    Timestamp finishedAt = rs.getTimestamp("finished_at");
    return new Schedule(
        rs.getString("id"),
        rs.getTimestamp("apply_at").toInstant(),
        Schedule.Status.valueOf(rs.getString("status")),
        rs.getString("description"),
        ScheduledWrites.fromJson(rs.getString("writes")),
        rs.getString("created_by"),
        rs.getTimestamp("created_at").toInstant(),
        rs.getString("request_id"),
        hasRevision ? OptionalLong.of(revision) : OptionalLong.empty(),
        Optional.ofNullable(rs.getString("problem")).map(this::problem),
        Optional.ofNullable(finishedAt).map(Timestamp::toInstant),
        Optional.ofNullable(rs.getString("finished_by")),
        Optional.ofNullable(rs.getString("finished_request_id")));
  }

  private String problemJson(Schedule.Problem problem) {
    try {
      return json.writeValueAsString(problem);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private Schedule.Problem problem(String text) {
    try {
      return json.readValue(text, Schedule.Problem.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a stored schedule problem is not JSON", e);
    }
  }
}
