package com.veltrix.config.catalog;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The deadline of a call that brought none ({@code veltrix.resilience.request-budget}): every REST
 * call, and a gRPC call without a client deadline.
 *
 * @param requestBudget how long one such call may spend on the database, queueing to write and
 *     retries included; well inside the 300 ms p99.9 target
 */
@ConfigurationProperties("veltrix.resilience")
public record RequestBudget(@DefaultValue("250ms") Duration requestBudget) {

  /** The current call's deadline ({@link System#nanoTime()} terms): its own, else this budget. */
  public long deadlineNanos() {
    return CallContext.deadline().orElseGet(() -> System.nanoTime() + requestBudget.toNanos());
  }
}
