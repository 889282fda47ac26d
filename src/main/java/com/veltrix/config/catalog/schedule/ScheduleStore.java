package com.veltrix.config.catalog.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** What schedules need from the database (implemented in {@code storage}). */
public interface ScheduleStore {

  /**
   * Stores a new PENDING schedule, unless its creator already used {@code idempotencyKey}: then the
   * schedule stored under it is returned with its request hash, and nothing is stored.
   */
  Stored insert(Schedule schedule, Optional<String> idempotencyKey, String requestHash);

  /** What {@link #insert} found: the schedule, and whether this call created it. */
  record Stored(Schedule schedule, String requestHash, boolean created) {}

  Optional<Schedule> find(String id);

  /**
   * Schedules by {@code applyAt} then id, after the cursor ({@code afterApplyAt}, {@code afterId}),
   * with {@code from <= applyAt < until} and the status, when given.
   */
  List<Schedule> list(
      Optional<Schedule.Status> status,
      Optional<Instant> from,
      Optional<Instant> until,
      Optional<Cursor> after,
      int limit);

  /** A position in the {@code applyAt}, id order. */
  record Cursor(Instant applyAt, String id) {}

  /** PENDING schedules due by the database's clock, oldest first. */
  List<Schedule> due(int limit);

  /**
   * How long until the earliest PENDING schedule falls due, by the database's clock (zero or less:
   * due now); empty when none is pending.
   */
  Optional<Duration> nextDueIn();

  /** PENDING schedules due by {@code until} (a preview's), in the order they apply. */
  List<Schedule> pendingUntil(Instant until);

  /**
   * Marks a PENDING schedule APPLIED at {@code revision} by pod {@code by}; false if not PENDING.
   */
  boolean markApplied(String id, long revision, String by);

  /**
   * Ends a PENDING schedule as FAILED or CANCELLED, atomically with claiming the idempotency key
   * its batch is applied under ({@code applyKey}): false (nothing changed) if the schedule is not
   * PENDING or its batch was already committed under that key, so a schedule that is being applied
   * can be neither cancelled nor failed by another pod.
   */
  boolean finish(
      String id,
      String applyKey,
      Schedule.Status status,
      Optional<Schedule.Problem> problem,
      String by,
      String requestId);

  /** PENDING schedules. */
  long pendingCount();
}
