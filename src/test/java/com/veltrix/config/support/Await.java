package com.veltrix.config.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waits for a condition another thread brings about, every 5 ms; fails the test after 10 s. */
public final class Await {

  private Await() {}

  public static void until(BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waited 10 s for the condition").isLessThan(deadline);
      Sleep.millis(5);
    }
  }
}
