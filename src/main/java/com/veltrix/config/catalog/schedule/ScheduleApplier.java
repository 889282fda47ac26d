package com.veltrix.config.catalog.schedule;

import com.veltrix.config.DaemonThreads;
import com.veltrix.config.LogText;
import com.veltrix.config.catalog.CallContext;
import com.veltrix.config.catalog.CatalogException;
import com.veltrix.config.catalog.DocumentNotFoundException;
import com.veltrix.config.catalog.IdempotencyKeyReusedException;
import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.PayloadTooLargeException;
import com.veltrix.config.catalog.PreconditionFailedException;
import com.veltrix.config.catalog.ReferenceConflictException;
import com.veltrix.config.catalog.RequestBudget;
import com.veltrix.config.catalog.StoreUnavailableException;
import com.veltrix.config.catalog.write.BatchResult;
import com.veltrix.config.catalog.write.ConfigWriter;
import com.veltrix.config.catalog.write.WriteContext;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.stereotype.Component;

/**
 * Applies due schedules. Every pod polls, and sets a timer for a schedule that falls due before its
 * next poll; each due schedule is written as an ordinary batch under the idempotency key {@code
 * veltrix-schedule:<id>}, so however many pods try it at once, and whichever of them dies half-way,
 * its writes commit once: the second attempt is a replay that writes nothing and reports the first
 * revision. Only then is the schedule marked APPLIED (by any pod, again if one died before it
 * could). A schedule whose references or {@code ifMatch} fail at the writing revision ends FAILED
 * with the problem, atomically with claiming that key, so no pod can write it afterwards.
 */
@Component
class ScheduleApplier implements SmartInitializingSingleton, DisposableBean {

  private static final Logger log = LoggerFactory.getLogger(ScheduleApplier.class);
  private static final int DUE_PER_POLL = 20;

  private final ScheduleStore store;
  private final ConfigWriter writer;
  private final ScheduleProperties properties;
  private final Duration applyBudget;
  private final Clock clock;
  private final String pod;
  private final Counter applied;
  private final Counter failed;
  private final Timer delay;
  private final AtomicLong pending = new AtomicLong();
  private final ScheduledExecutorService executor = DaemonThreads.scheduled("schedule-applier", 1);
  private long polls;

  ScheduleApplier(
      ScheduleStore store,
      ConfigWriter writer,
      ScheduleProperties properties,
      RequestBudget budget,
      Clock clock,
      MeterRegistry meters) {
    this.store = store;
    this.applyBudget = budget.largestBatchBudget();
    this.writer = writer;
    this.properties = properties;
    this.clock = clock;
    this.pod = properties.instanceName().isBlank() ? podName() : properties.instanceName();
    this.applied = meters.counter("veltrix.schedules.applied");
    this.failed = meters.counter("veltrix.schedules.failed");
    this.delay =
        Timer.builder("veltrix.schedules.delay")
            .description("from a schedule's applyAt to this pod marking it applied")
            .publishPercentileHistogram()
            .register(meters);
    meters.gauge("veltrix.schedules.pending", pending);
  }

  private static String podName() {
    String host = System.getenv("HOSTNAME");
    if (host == null || host.isBlank()) {
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        host = "unknown";
      }
    }
    return host + "/" + ProcessHandle.current().pid();
  }

  /** Starts polling ({@code poll-interval: 0} turns it off: tests then apply by hand). */
  @Override
  public void afterSingletonsInstantiated() {
    long every = properties.pollInterval().toMillis();
    if (every > 0) {
      long jitter = ThreadLocalRandom.current().nextLong(every); // pods out of step
      executor.scheduleWithFixedDelay(this::poll, jitter, every, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void destroy() {
    executor.shutdownNow();
  }

  private void poll() {
    if (polls++ % 25 == 0) {
      try {
        pending.set(store.pendingCount());
      } catch (RuntimeException e) {
        log.debug("pending schedules not counted: {}", e.toString());
      }
    }
    wake();
  }

  /**
   * Applies what is due, then sets a timer for the next schedule if it falls due before the next
   * poll, so a schedule is applied at its time rather than up to a poll interval later.
   */
  private void wake() {
    try {
      // idle, this is the pass's only query: the earliest PENDING schedule, one index step
      Optional<Duration> next = store.nextDueIn();
      int ended = 0;
      if (next.filter(in -> !positive(in)).isPresent()) { // something is due
        ended = applyDue();
        next = store.nextDueIn();
      }
      boolean progressed = ended > 0;
      next.filter(in -> in.compareTo(properties.pollInterval()) < 0)
          // still due after this pass: again at once only if it made progress (a backlog), else
          // at the next poll (a schedule another pod is finishing, or one that cannot be applied)
          .filter(in -> positive(in) || progressed)
          .ifPresent(
              in ->
                  executor.schedule(
                      this::wake, Math.max(0, in.toMillis() + 1), TimeUnit.MILLISECONDS));
    } catch (StoreUnavailableException e) {
      log.debug("schedules not polled: {}", e.getMessage());
    } catch (RuntimeException e) {
      log.warn("schedule poll failed: {}", e.toString());
    }
  }

  private static boolean positive(Duration in) {
    return !in.isNegative() && !in.isZero();
  }

  /** Applies every schedule due now; returns how many this call ended (applied or failed). */
  int applyDue() {
    List<Schedule> due = store.due(DUE_PER_POLL);
    int ended = 0;
    for (Schedule schedule : due) {
      if (apply(schedule)) {
        ended++;
      }
    }
    return ended;
  }

  private boolean apply(Schedule schedule) {
    String key = Schedules.applyKey(schedule.id());
    try {
      // not a caller's request: whatever its size, it gets the time of the largest batch
      BatchResult result =
          CallContext.call(
              System.nanoTime() + applyBudget.toNanos(),
              () ->
                  writer.batch(
                      schedule.writes(),
                      Optional.of(key),
                      new WriteContext(schedule.createdBy(), schedule.id())));
      if (store.markApplied(schedule.id(), result.revision(), pod)) {
        applied.increment();
        Duration late = Duration.between(schedule.applyAt(), clock.instant());
        delay.record(late.isNegative() ? Duration.ZERO : late);
        log.info(
            "schedule {} applied at revision {}, {} ms after its time",
            schedule.id(),
            result.revision(),
            late.toMillis());
        return true;
      }
      return false;
    } catch (IdempotencyKeyReusedException e) {
      return false; // cancelled or failed (by this or another pod) since it was read
    } catch (StoreUnavailableException e) {
      throw e; // the next poll tries again
    } catch (CatalogException e) {
      Schedule.Problem problem = problem(e);
      if (store.finish(
          schedule.id(), key, Schedule.Status.FAILED, Optional.of(problem), pod, schedule.id())) {
        failed.increment();
        log.warn(
            "schedule {} FAILED and wrote nothing: {} {}",
            schedule.id(),
            problem.reason(),
            LogText.escape(problem.detail()));
        return true;
      }
      return false;
    }
  }

  /** The reason and HTTP status a batch refused this way gets from the adapters. */
  static Schedule.Problem problem(CatalogException e) {
    String detail = e.getMessage();
    if (e instanceof PreconditionFailedException) {
      return new Schedule.Problem("VERSION_MISMATCH", 412, detail);
    }
    if (e instanceof ReferenceConflictException) {
      return new Schedule.Problem("REFERENCE_CONFLICT", 409, detail);
    }
    if (e instanceof DocumentNotFoundException) {
      return new Schedule.Problem("DOCUMENT_NOT_FOUND", 404, detail);
    }
    if (e instanceof PayloadTooLargeException) {
      return new Schedule.Problem("PAYLOAD_TOO_LARGE", 413, detail);
    }
    if (e instanceof InvalidInputException invalid) {
      return new Schedule.Problem("INVALID_INPUT", 400, detail + " " + invalid.violations());
    }
    return new Schedule.Problem(e.getClass().getSimpleName(), 409, detail);
  }
}
