package com.veltrix.config.catalog;

import java.util.List;
import java.util.Optional;

/** What an idempotency key may be, the same for {@code Idempotency-Key} and gRPC's field. */
public final class IdempotencyKeys {

  public static final int MAX_LENGTH = 255;

  private IdempotencyKeys() {}

  /**
   * The keys a schedule's batch is applied under: {@code RESERVED_PREFIX + scheduleId}. Callers
   * cannot use them, so no batch can pre-empt or replay a schedule.
   */
  public static final String RESERVED_PREFIX = "veltrix-schedule:";

  /** Absent (null): no key. Otherwise 1-255 visible ASCII characters, else 400. */
  public static Optional<String> check(String key, Violation.Location where) {
    if (key == null) {
      return Optional.empty();
    }
    if (key.isEmpty()
        || key.length() > MAX_LENGTH
        || !key.chars().allMatch(c -> c >= 0x21 && c < 0x7f)) {
      throw new InvalidInputException(
          List.of(where.violation("must be 1-255 visible ASCII characters")));
    }
    if (key.startsWith(RESERVED_PREFIX)) {
      throw new InvalidInputException(
          List.of(where.violation("must not start with '" + RESERVED_PREFIX + "' (reserved)")));
    }
    return Optional.of(key);
  }
}
