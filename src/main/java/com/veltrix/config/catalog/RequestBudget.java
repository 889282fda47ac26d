package com.veltrix.config.catalog;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The deadline of a call that brought none ({@code veltrix.resilience.request-budget}): every REST
 * call, and a unary gRPC call without a client deadline, from the moment it arrives.
 *
 * @param requestBudget how long one such call may take before it is answered, 503 / UNAVAILABLE at
 *     worst: reading and validating its body, queueing to write, every database call it makes and
 *     their retries included; well inside the 300 ms p99.9 target
 */
@ConfigurationProperties("veltrix.resilience")
public record RequestBudget(@DefaultValue("250ms") Duration requestBudget) {

  /**
   * The current call's deadline ({@link System#nanoTime()} terms): the one its context carries,
   * else this budget from now (work outside any call: start-up, housekeeping).
   */
  public long deadlineNanos() {
    return CallContext.deadline().orElseGet(() -> System.nanoTime() + requestBudget.toNanos());
  }
}
