package com.veltrix.config.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.veltrix.config.catalog.schedule.Schedule;
import com.veltrix.config.catalog.write.WriteCommand;
import com.veltrix.config.rest.Bodies.BatchWrite;
import java.time.Instant;
import java.util.List;

/** The bodies of {@code /schedules}. */
final class ScheduleBodies {

  private ScheduleBodies() {}

  /**
   * {@code POST /schedules}: {@code applyAt} as RFC 3339 text (parsed here, so a bad one gets a
   * pointer), the writes as {@code POST /batches} takes them.
   */
  record ScheduleRequest(String applyAt, String description, List<BatchWrite> writes) {}

  /** Why a schedule FAILED: what the same batch would have been answered, without the batch. */
  record ProblemBody(String reason, int status, String detail) {}

  /** A schedule; {@code revision} once APPLIED, {@code problem} once FAILED. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ScheduleBody(
      String id,
      Instant applyAt,
      String status,
      String description,
      List<BatchWrite> writes,
      String createdBy,
      Instant createdAt,
      String requestId,
      Long revision,
      ProblemBody problem,
      Instant finishedAt,
      String finishedBy,
      String finishedRequestId) {

    static ScheduleBody of(Schedule s) {
      return new ScheduleBody(
          s.id(),
          s.applyAt(),
          s.status().name(),
          s.description(),
          s.writes().stream().map(ScheduleBodies::write).toList(),
          s.createdBy(),
          s.createdAt(),
          s.requestId(),
          s.revision().isPresent() ? s.revision().getAsLong() : null,
          s.problem().map(p -> new ProblemBody(p.reason(), p.status(), p.detail())).orElse(null),
          s.finishedAt().orElse(null),
          s.finishedBy().orElse(null),
          s.finishedRequestId().orElse(null));
    }
  }

  /** {@code GET /schedules}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record SchedulesPage(List<ScheduleBody> items, String nextPageToken) {}

  private static BatchWrite write(WriteCommand w) {
    Long ifMatch =
        w.precondition().ifMatch().isPresent() ? w.precondition().ifMatch().getAsLong() : null;
    return w instanceof WriteCommand.Upsert u
        ? new BatchWrite("upsert", w.key().kind().name(), w.key().id(), u.payload(), ifMatch)
        : new BatchWrite("retire", w.key().kind().name(), w.key().id(), null, ifMatch);
  }
}
