package com.veltrix.config.rest;

import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.Violation;
import com.veltrix.config.catalog.schedule.Schedule;
import com.veltrix.config.catalog.schedule.SchedulePage;
import com.veltrix.config.catalog.schedule.Schedules;
import com.veltrix.config.catalog.write.WriteCommand;
import com.veltrix.config.rest.ScheduleBodies.ScheduleBody;
import com.veltrix.config.rest.ScheduleBodies.ScheduleRequest;
import com.veltrix.config.rest.ScheduleBodies.SchedulesPage;
import com.veltrix.config.security.Permissions;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Scheduled changes: a batch applied at a time (limited-time events). */
@RestController
@Tag(name = "schedules", description = "Batches applied at a given time, exactly once")
@RequestMapping("/api/v1/schedules")
class ScheduleController {

  private final Schedules schedules;

  ScheduleController(Schedules schedules) {
    this.schedules = schedules;
  }

  @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
  ResponseEntity<ScheduleBody> create(
      @RequestBody ScheduleRequest body,
      @RequestHeader(name = RestMapper.IDEMPOTENCY_KEY, required = false) String key,
      HttpServletRequest request) {
    Optional<String> idempotencyKey = RestMapper.idempotencyKey(key);
    if (body == null) {
      throw new InvalidInputException(List.of(Violation.at("", "a schedule object is required")));
    }
    Instant applyAt = applyAt(body.applyAt());
    List<WriteCommand> writes = RestMapper.writes(new Bodies.BatchRequest(body.writes()));
    Permissions.requireAdminToRetire(writes);
    Schedule schedule =
        schedules.create(
            applyAt,
            Optional.ofNullable(body.description()),
            writes,
            idempotencyKey,
            RequestIds.context(request));
    return ResponseEntity.created(URI.create("/api/v1/schedules/" + schedule.id()))
        .body(ScheduleBody.of(schedule));
  }

  private static Instant applyAt(String text) {
    if (text == null) {
      return null; // reported with the other violations
    }
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      throw new InvalidInputException(
          List.of(
              Violation.at(
                  "/applyAt",
                  "must be an RFC 3339 time such as 2026-12-24T18:00:00Z, was '" + text + "'")));
    }
  }

  @GetMapping
  SchedulesPage list(
      @RequestParam Optional<String> status,
      @RequestParam Optional<String> from,
      @RequestParam Optional<String> until,
      @RequestParam Optional<Integer> limit,
      @RequestParam Optional<String> pageToken) {
    SchedulePage page =
        schedules.list(
            status.map(ScheduleController::status),
            RestMapper.time(from, "from"),
            RestMapper.time(until, "until"),
            limit.map(OptionalInt::of).orElse(OptionalInt.empty()),
            pageToken);
    return new SchedulesPage(
        page.items().stream().map(ScheduleBody::of).toList(), page.nextPageToken().orElse(null));
  }

  private static Schedule.Status status(String text) {
    try {
      return Schedule.Status.valueOf(text.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw InvalidInputException.parameter(
          "status", "must be one of PENDING, APPLIED, FAILED, CANCELLED, was '" + text + "'");
    }
  }

  @GetMapping("/{id}")
  ScheduleBody get(@PathVariable String id) {
    return ScheduleBody.of(schedules.get(id));
  }

  /** Cancels a PENDING schedule (409 otherwise); one that retires needs configs:admin. */
  @DeleteMapping("/{id}")
  ScheduleBody cancel(@PathVariable String id, HttpServletRequest request) {
    Permissions.requireAdminToRetire(schedules.get(id).writes());
    return ScheduleBody.of(schedules.cancel(id, RequestIds.context(request)));
  }
}
