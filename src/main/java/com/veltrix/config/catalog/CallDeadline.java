package com.veltrix.config.catalog;

import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * The deadline of the call being served on this thread, when the caller gave one (a gRPC client's
 * deadline). Database work, retries included, never runs past it; without one the request budget
 * applies.
 */
public final class CallDeadline {

  private static final ThreadLocal<Long> NANO_TIME = new ThreadLocal<>();

  private CallDeadline() {}

  /** Runs {@code work} with the deadline {@code nanoTime} (in {@link System#nanoTime()} terms). */
  public static void run(long nanoTime, Runnable work) {
    call(
        nanoTime,
        () -> {
          work.run();
          return null;
        });
  }

  /** Computes {@code work} with the deadline {@code nanoTime}. */
  public static <T> T call(long nanoTime, Supplier<T> work) {
    Long previous = NANO_TIME.get();
    NANO_TIME.set(nanoTime);
    try {
      return work.get();
    } finally {
      if (previous == null) {
        NANO_TIME.remove();
      } else {
        NANO_TIME.set(previous);
      }
    }
  }

  /** The current call's deadline as a {@link System#nanoTime()} value, if it has one. */
  public static OptionalLong nanoTime() {
    Long value = NANO_TIME.get();
    return value == null ? OptionalLong.empty() : OptionalLong.of(value);
  }
}
