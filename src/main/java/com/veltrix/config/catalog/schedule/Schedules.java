package com.veltrix.config.catalog.schedule;

import com.veltrix.config.catalog.CatalogLimits;
import com.veltrix.config.catalog.DocumentNotFoundException;
import com.veltrix.config.catalog.IdempotencyKeyReusedException;
import com.veltrix.config.catalog.IdempotencyKeys;
import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.ScheduleNotPendingException;
import com.veltrix.config.catalog.Violation;
import com.veltrix.config.catalog.payload.CanonicalJson;
import com.veltrix.config.catalog.write.ConfigWriter;
import com.veltrix.config.catalog.write.WriteCommand;
import com.veltrix.config.catalog.write.WriteContext;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.UUID;
import org.springframework.stereotype.Service;

/** Creating, reading and cancelling schedules; {@link ScheduleApplier} applies them. */
@Service
public class Schedules {

  private final ScheduleStore store;
  private final ConfigWriter writer;
  private final ScheduleProperties properties;
  private final CatalogLimits limits;
  private final Clock clock;

  Schedules(
      ScheduleStore store,
      ConfigWriter writer,
      ScheduleProperties properties,
      CatalogLimits limits,
      Clock clock) {
    this.store = store;
    this.writer = writer;
    this.properties = properties;
    this.limits = limits;
    this.clock = clock;
  }

  /** The idempotency key a schedule's batch is written under. */
  static String applyKey(String scheduleId) {
    return IdempotencyKeys.RESERVED_PREFIX + scheduleId;
  }

  /**
   * Validates the batch as {@code POST /batches} would (payloads now; references and {@code
   * ifMatch} when it is applied) and stores it PENDING. A replay with the creator's idempotency key
   * returns the schedule the first call created.
   */
  public Schedule create(
      Instant applyAt,
      Optional<String> description,
      List<WriteCommand> writes,
      Optional<String> idempotencyKey,
      WriteContext context) {
    List<Violation> violations = new ArrayList<>();
    Instant now = clock.instant();
    if (applyAt == null) {
      violations.add(Violation.at("/applyAt", "is required (RFC 3339, e.g. 2026-12-24T18:00:00Z)"));
    } else if (!applyAt.isAfter(now)) {
      violations.add(Violation.at("/applyAt", "must be in the future; it is " + now + " now"));
    } else if (applyAt.isAfter(now.atOffset(ZoneOffset.UTC).plusYears(1).toInstant())) {
      violations.add(Violation.at("/applyAt", "must be at most one year ahead"));
    }
    String text = description.orElse("");
    if (text.length() > properties.maxDescription()) {
      violations.add(
          Violation.at(
              "/description", "must be at most " + properties.maxDescription() + " characters"));
    }
    try {
      writer.validateBatch(writes);
    } catch (InvalidInputException e) {
      violations.addAll(e.violations());
    }
    if (!violations.isEmpty()) {
      throw new InvalidInputException(violations);
    }
    Instant at = applyAt.truncatedTo(ChronoUnit.MICROS);
    String writesJson = ScheduledWrites.toJson(writes);
    String requestHash = CanonicalJson.sha256(at + "\n" + text + "\n" + writesJson);
    Schedule schedule =
        new Schedule(
            UUID.randomUUID().toString(),
            at,
            Schedule.Status.PENDING,
            text,
            writes,
            context.actor(),
            now.truncatedTo(ChronoUnit.MICROS),
            context.requestId(),
            OptionalLong.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty());
    ScheduleStore.Stored stored = store.insert(schedule, idempotencyKey, requestHash);
    if (!stored.created() && !stored.requestHash().equals(requestHash)) {
      throw new IdempotencyKeyReusedException(idempotencyKey.orElseThrow());
    }
    return stored.schedule();
  }

  public Schedule get(String id) {
    return store.find(id).orElseThrow(() -> notFound(id));
  }

  /**
   * Schedules by {@code applyAt}, optionally of one status and with {@code from <= applyAt <
   * until}.
   */
  public SchedulePage list(
      Optional<Schedule.Status> status,
      Optional<Instant> from,
      Optional<Instant> until,
      OptionalInt limit,
      Optional<String> pageToken) {
    int size = limit.orElse(limits.defaultPageSize());
    if (size < 1 || size > limits.maxPageSize()) {
      throw InvalidInputException.parameter(
          "limit", "must be between 1 and " + limits.maxPageSize());
    }
    if (from.isPresent() && until.isPresent() && !from.get().isBefore(until.get())) {
      throw InvalidInputException.parameter("until", "must be after from");
    }
    Optional<ScheduleStore.Cursor> after = pageToken.map(Schedules::decode);
    List<Schedule> items = new ArrayList<>(store.list(status, from, until, after, size + 1));
    Optional<String> next = Optional.empty();
    if (items.size() > size) {
      items = items.subList(0, size);
      Schedule last = items.get(size - 1);
      next = Optional.of(encode(new ScheduleStore.Cursor(last.applyAt(), last.id())));
    }
    return new SchedulePage(List.copyOf(items), next);
  }

  /** Cancels a PENDING schedule; 409 once it is applied, failed, cancelled or being applied. */
  public Schedule cancel(String id, WriteContext context) {
    if (store.finish(
        id,
        applyKey(id),
        Schedule.Status.CANCELLED,
        Optional.empty(),
        context.actor(),
        context.requestId())) {
      return get(id);
    }
    Schedule schedule = get(id);
    throw new ScheduleNotPendingException(
        schedule.status() == Schedule.Status.PENDING
            ? "schedule " + id + " is being applied; it can no longer be cancelled"
            : "schedule "
                + id
                + " is "
                + schedule.status()
                + "; only a PENDING one can be cancelled");
  }

  static DocumentNotFoundException notFound(String id) {
    return new DocumentNotFoundException("schedule " + id + " does not exist");
  }

  private static String encode(ScheduleStore.Cursor cursor) {
    String text = cursor.applyAt() + " " + cursor.id();
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static ScheduleStore.Cursor decode(String token) {
    try {
      String text = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      int space = text.indexOf(' ');
      return new ScheduleStore.Cursor(
          Instant.parse(text.substring(0, space)), text.substring(space + 1));
    } catch (RuntimeException e) {
      throw InvalidInputException.parameter(
          "pageToken", "is not a token this service issued for schedules");
    }
  }
}
