package com.veltrix.config.catalog;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The deadline of a call that brought none ({@code veltrix.resilience.*}): every REST call, and a
 * gRPC call without a client deadline.
 *
 * @param requestBudget how long one such call may spend on the database, queueing to write and
 *     retries included; well inside the 300 ms p99.9 target
 * @param largestBatchBudget the same for a batch at the limits ({@code veltrix.limits}: 1,000
 *     writes or 8 MB of payloads), and for a schedule when it is applied: a batch gets this in
 *     proportion to its size (its writes or its payload bytes against the limit, whichever share is
 *     larger), never less than {@code requestBudget}. A full batch sends megabytes that a database
 *     across zones must replicate before it commits; 250 ms is not its time, and a batch refused at
 *     its budget is sent again, whole
 */
@ConfigurationProperties("veltrix.resilience")
public record RequestBudget(
    @DefaultValue("250ms") Duration requestBudget,
    @DefaultValue("5s") Duration largestBatchBudget) {

  /** The current call's deadline ({@link System#nanoTime()} terms): its own, else this budget. */
  public long deadlineNanos() {
    return CallContext.deadline().orElseGet(() -> System.nanoTime() + requestBudget.toNanos());
  }

  /**
   * The time a write that is {@code shareOfLargest} (0 to 1) of the largest batch gets when its
   * call brought no deadline: that share of {@link #largestBatchBudget}, at least the {@link
   * #requestBudget}.
   */
  public long budgetNanos(double shareOfLargest) {
    double share = Math.min(1, Math.max(0, shareOfLargest));
    return Math.max(requestBudget.toNanos(), (long) (share * largestBatchBudget.toNanos()));
  }
}
