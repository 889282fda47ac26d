package com.veltrix.config.catalog.write;

import com.veltrix.config.catalog.CallContext;
import com.veltrix.config.catalog.CatalogLimits;
import com.veltrix.config.catalog.CatalogStore;
import com.veltrix.config.catalog.RequestBudget;
import com.veltrix.config.catalog.RevisionCommitted;
import com.veltrix.config.catalog.StoreUnavailableException;
import com.veltrix.config.catalog.payload.PayloadValidator;
import com.veltrix.config.catalog.write.GroupAttempt.Applied;
import com.veltrix.config.catalog.write.GroupAttempt.Deferred;
import com.veltrix.config.catalog.write.GroupAttempt.Done;
import com.veltrix.config.catalog.write.GroupAttempt.Outcome;
import com.veltrix.config.catalog.write.GroupAttempt.Refused;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Component;

/**
 * Group commit: this pod's writes queue here, and one committer thread commits the requests that
 * are waiting together, in one transaction at one revision ({@link GroupAttempt}). Every writer in
 * the cluster meets at the revision row, so under load this multiplies the writes per acquisition
 * of that row instead of queueing requests on it one by one (and, on PostgreSQL, instead of failing
 * all but one of the waiters with 40001 at every commit).
 *
 * <p>A group is the waiting request whose turn comes first (its head: the earliest deadline, none
 * counted later than the request budget's; see {@link #submit}) and the others of its kind (large
 * batches with a large head, other writes with any other) in arrival order, up to {@link
 * WriteProperties#maxGroupWrites()} writes and {@code veltrix.limits.max-batch-size} of payloads.
 * The group's transaction runs under the earliest deadline of its members (the head's, unless its
 * turn came by the cap), so no member is answered after its own. A request whose deadline passes
 * while it waits is answered 503 (not the database's fault: the breaker ignores it) and never
 * written; one already in a running group waits for the group's answer. When a group runs out of
 * its earliest member's time (the database slow or unreachable, writers contending), its other
 * members go back to the front of the queue if they have at least 20 ms of their own left (a cut
 * that outlasts that budget fails that member, not the whole group); only an open circuit answers
 * them all at once. When it fails for a reason that is not the database's (a bug, a statement the
 * database refuses), each of its members is tried alone, so a request can only fail itself.
 *
 * <p>After a group of several small writes the committer waits a moment for the writers it just
 * answered ({@link #awaitAnsweredWriters}), so that a closed loop of writers keeps meeting in one
 * group.
 */
@Component
class WriteGroups {

  private static final Logger log = LoggerFactory.getLogger(WriteGroups.class);

  /** A request with less time left than this is not started. */
  private static final long MIN_ATTEMPT_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  /** The histograms' finest bucket: a write's queue and transaction take well under 1 ms. */
  private static final Duration FINEST_BUCKET = Duration.ofNanos(100_000);

  /** A request with less time left than this is committed alone. */
  private static final long MIN_GROUP_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  /** The committer stops waiting for more writers this long before a queued write's deadline. */
  private static final long LINGER_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final CatalogStore store;
  private final ApplicationEventPublisher events;
  private final PayloadValidator validator;
  private final RequestBudget budget;
  private final WriteProperties properties;
  private final long maxGroupBytes;
  private final int maxBatchWrites;
  private final DistributionSummary groupRequests;
  private final DistributionSummary groupWrites;
  private final Timer queuedFor;
  private final Timer groupTransaction;
  private final Counter rebased;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition waiting = lock.newCondition();
  private final ArrayDeque<Member> queue = new ArrayDeque<>();

  /** While the committer lingers (under the lock): the queue's length it waits for, else 0. */
  private int lingerFor;

  /** While the committer lingers (under the lock): when it stops waiting. */
  private long lingerUntil;

  WriteGroups(
      CatalogStore store,
      PayloadValidator validator,
      RequestBudget budget,
      WriteProperties properties,
      CatalogLimits limits,
      MeterRegistry meters,
      ApplicationEventPublisher events) {
    this.store = store;
    this.events = events;
    this.validator = validator;
    this.budget = budget;
    this.properties = properties;
    this.maxGroupBytes = limits.maxBatchSize().toBytes();
    this.maxBatchWrites = limits.maxBatchWrites();
    this.groupRequests =
        DistributionSummary.builder("veltrix.writes.group.requests")
            .description("requests committed together in one transaction")
            .register(meters);
    this.groupWrites =
        DistributionSummary.builder("veltrix.writes.group.versions")
            .description("document versions a group transaction was asked to write")
            .register(meters);
    this.queuedFor =
        Timer.builder("veltrix.writes.queue")
            .description("time a write request waited for its group's transaction to start")
            .publishPercentileHistogram()
            .minimumExpectedValue(FINEST_BUCKET)
            .register(meters);
    this.groupTransaction =
        Timer.builder("veltrix.writes.group.transaction")
            .description("a group's transaction that succeeded, retries included")
            .publishPercentileHistogram()
            .minimumExpectedValue(FINEST_BUCKET)
            .register(meters);
    this.rebased =
        Counter.builder("veltrix.writes.rebased")
            .description(
                "versions stored after a head another writer moved since the write's reads"
                    + " (upserts with no precondition)")
            .register(meters);
    meters.gauge("veltrix.writes.queued", this, WriteGroups::queued);
    Thread committer = new Thread(this::commitLoop, "write-groups");
    committer.setDaemon(true);
    committer.start();
  }

  /** How many requests are waiting for a group. */
  int queued() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Queues {@code request} and waits for its answer, at most until its deadline while queued: the
   * caller's own, else a budget in proportion to its size ({@link RequestBudget#budgetNanos}).
   * Requests take turns by deadline, but none later than the request budget would put it: a write
   * given seconds (a large batch, a gRPC client's deadline, a schedule) waited behind shorter
   * writes for as long as they kept coming. A large batch (one whose size earns it more than the
   * request budget, whatever deadline its caller gave it) is grouped only with other large batches
   * (several in flight from one client are committed together), never with shorter writes, whose
   * time it would run out of.
   */
  Applied submit(WriteRequest request) {
    double share =
        Math.max(
            (double) request.size() / maxBatchWrites,
            (double) request.payloadBytes() / maxGroupBytes);
    long now = System.nanoTime();
    long given = budget.budgetNanos(share);
    long requestBudget = budget.requestBudget().toNanos();
    long deadline = CallContext.deadline().orElse(now + given);
    // its turn: its deadline, but never later than the request budget's
    long turn = Math.min(deadline, now + requestBudget);
    Member member = new Member(request, deadline, turn, given > requestBudget);
    lock.lock();
    try {
      queue.addLast(member);
      if (lingerFor == 0) {
        waiting.signal();
      } else if (queue.size() >= lingerFor || deadline - LINGER_MARGIN_NANOS < lingerUntil) {
        // a lingering committer wakes when its writers are back, or to stop sooner
        lingerUntil = Math.min(lingerUntil, deadline - LINGER_MARGIN_NANOS);
        waiting.signal();
      }
    } finally {
      lock.unlock();
    }
    try {
      return member.outcome.get(member.remainingNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      lock.lock();
      try {
        if (queue.remove(member)) {
          throw queuedPastDeadline();
        }
      } finally {
        lock.unlock();
      }
      try {
        return member.outcome.join(); // in a running group, which ends by its head's deadline
      } catch (CompletionException failed) {
        throw rethrown(failed.getCause());
      }
    } catch (ExecutionException e) {
      throw rethrown(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("interrupted while queued to write", e, false, false);
    }
  }

  private static RuntimeException rethrown(Throwable cause) {
    return cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
  }

  private static StoreUnavailableException queuedPastDeadline() {
    return new StoreUnavailableException(
        "writers are queued past the call's deadline", null, false, false);
  }

  private void commitLoop() {
    boolean small = false; // the group just committed
    int answered = 0; // its members answered with a result: writers that may write again now
    long lastTransaction = 0;
    while (true) {
      List<Member> group;
      lock.lock();
      try {
        if (answered > 1 && small) {
          awaitAnsweredWriters(answered, lastTransaction);
        }
        group = takeGroup();
        while (group.isEmpty()) {
          waiting.awaitUninterruptibly();
          group = takeGroup();
        }
      } finally {
        lock.unlock();
      }
      long started = System.nanoTime();
      try {
        commit(group);
      } catch (RuntimeException | Error e) {
        // never leave a caller waiting, never let the committer die
        log.error("write group failed unexpectedly", e);
        group.forEach(m -> m.outcome.completeExceptionally(e));
      }
      lastTransaction = System.nanoTime() - started;
      small = !group.get(0).large;
      answered =
          (int)
              group.stream()
                  .filter(m -> m.outcome.isDone() && !m.outcome.isCompletedExceptionally())
                  .count();
    }
  }

  /**
   * Under the lock, after a group of {@code answered} small writes: waits until that many more
   * requests are queued than now (the writers just answered, sending their next write), at most
   * {@code veltrix.writes.group-linger} and half of {@code lastTransaction}, and never past a
   * queued request's deadline less {@link #LINGER_MARGIN_NANOS}. Without it a closed loop of
   * writers splits in two halves that take turns: the writers answered by one group send their next
   * write just after the next group began, and wait for it to end before their own begins
   * (docs/performance.md, "What bounds grouping's gain at 1 ms").
   */
  private void awaitAnsweredWriters(int answered, long lastTransaction) {
    long until =
        System.nanoTime() + Math.min(properties.groupLinger().toNanos(), lastTransaction / 2);
    for (Member m : queue) {
      until = Math.min(until, m.deadline - LINGER_MARGIN_NANOS);
    }
    lingerUntil = until;
    lingerFor = queue.size() + answered;
    try {
      long left;
      while (queue.size() < lingerFor && (left = lingerUntil - System.nanoTime()) > 0) {
        waiting.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      // nobody interrupts the committer: stop waiting and commit what is there
    } finally {
      lingerFor = 0;
    }
  }

  /** Under the lock: the next group, after answering every queued request that is out of time. */
  private List<Member> takeGroup() {
    for (Iterator<Member> it = queue.iterator(); it.hasNext(); ) {
      Member m = it.next();
      if (m.remainingNanos() < MIN_ATTEMPT_NANOS) {
        it.remove();
        m.outcome.completeExceptionally(queuedPastDeadline());
      }
    }
    List<Member> group = new ArrayList<>();
    if (queue.isEmpty()) {
      return group;
    }
    Member head = queue.stream().min(Comparator.comparingLong(m -> m.turn)).orElseThrow();
    queue.remove(head);
    group.add(head);
    if (!properties.groupCommit() || head.alone || head.remainingNanos() < MIN_GROUP_NANOS) {
      return group; // a request nearly out of time does not shorten everyone's
    }
    int writes = head.request.size();
    long bytes = head.request.payloadBytes();
    for (Iterator<Member> it = queue.iterator(); it.hasNext(); ) {
      Member m = it.next();
      if (!m.alone
          && m.large == head.large // a large batch would run out of a short one's time
          && writes + m.request.size() <= properties.maxGroupWrites()
          && bytes + m.request.payloadBytes() <= maxGroupBytes) {
        it.remove();
        group.add(m);
        writes += m.request.size();
        bytes += m.request.payloadBytes();
      }
    }
    return group;
  }

  private void commit(List<Member> group) {
    List<WriteRequest> requests = group.stream().map(m -> m.request).toList();
    groupRequests.record(group.size());
    groupWrites.record(requests.stream().mapToInt(WriteRequest::size).sum());
    long started = System.nanoTime();
    for (Member m : group) {
      queuedFor.record(started - m.queuedAt, TimeUnit.NANOSECONDS);
    }
    // under the earliest deadline of its members, so that none is answered after its own: the
    // head's, unless its turn came by the request budget's cap (a deadline of seconds)
    Member earliest = group.stream().min(Comparator.comparingLong(m -> m.deadline)).orElseThrow();
    Attempted last;
    try {
      last =
          CallContext.call(
              earliest.deadline,
              () ->
                  store.write(
                      tx -> {
                        // a retry (the store's, or this member's after its group failed) may
                        // follow a commit whose reply was lost; not one after the database
                        // refused the attempt before (a lost row, a lock wait cut)
                        boolean retry = tx.earlierAttemptMayHaveCommitted();
                        GroupAttempt attempt =
                            new GroupAttempt(tx, validator, i -> retry || group.get(i).triedBefore);
                        return new Attempted(
                            attempt.run(requests), attempt.committed(), attempt.rebased());
                      }));
      groupTransaction.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
    } catch (StoreUnavailableException e) {
      group.forEach(m -> m.triedBefore = true);
      if (e.circuitOpen() || group.size() == 1) {
        group.forEach(m -> m.outcome.completeExceptionally(e));
      } else { // out of the earliest member's time: the others may have more of their own
        List<Member> again = new ArrayList<>();
        for (Member m : group) {
          if (m != earliest && m.remainingNanos() >= MIN_GROUP_NANOS) {
            again.add(m);
          } else { // a few milliseconds would only hold up the queue behind it
            m.outcome.completeExceptionally(e);
          }
        }
        requeue(again, false);
      }
      return;
    } catch (RuntimeException e) {
      group.forEach(m -> m.triedBefore = true);
      if (group.size() == 1) {
        group.get(0).outcome.completeExceptionally(e);
      } else {
        log.warn("a write group of {} failed ({}); trying each alone", group.size(), e.toString());
        requeue(group, true);
      }
      return;
    }
    rebased.increment(last.rebased()); // before the answers: a caller that reads it sees its own
    List<Member> deferred = new ArrayList<>();
    long committedEarlier = 0;
    for (int i = 0; i < group.size(); i++) {
      Member m = group.get(i);
      Outcome outcome = last.outcomes().get(i);
      if (outcome instanceof Done done) {
        long revision = done.applied().result().revision();
        if (done.applied().changed() && revision != last.revision()) {
          committedEarlier = Math.max(committedEarlier, revision);
        }
        m.outcome.complete(done.applied());
      } else if (outcome instanceof Refused refused) {
        m.outcome.completeExceptionally(refused.failure());
      } else if (outcome instanceof Deferred) {
        deferred.add(m);
      }
    }
    // this attempt's commit, events known: a watch of this pod sends them without reading the feed
    last.committed().ifPresent(events::publishEvent);
    if (committedEarlier > 0) { // by an attempt whose reply was lost: its events are in the feed
      events.publishEvent(RevisionCommitted.eventsUnknown(committedEarlier));
    }
    requeue(deferred, false);
  }

  /** The outcomes of a group's last attempt, and the revision it committed, if it did. */
  private record Attempted(
      List<Outcome> outcomes, Optional<RevisionCommitted> committed, int rebased) {
    long revision() {
      return committed.map(RevisionCommitted::revision).orElse(ConfigWriter.NOT_WRITTEN);
    }
  }

  /** Puts {@code members} back at the front of the queue, in their order. */
  private void requeue(List<Member> members, boolean alone) {
    if (members.isEmpty()) {
      return;
    }
    lock.lock();
    try {
      for (int i = members.size() - 1; i >= 0; i--) {
        Member m = members.get(i);
        m.alone |= alone;
        queue.addFirst(m);
      }
    } finally {
      lock.unlock();
    }
  }

  private static final class Member {
    final WriteRequest request;
    final long deadline;

    /** Its place in the queue: its deadline, or the request budget's if that comes first. */
    final long turn;

    /** A batch whose size earns it more than the request budget (whatever its deadline). */
    final boolean large;

    final CompletableFuture<Applied> outcome = new CompletableFuture<>();
    final long queuedAt = System.nanoTime();

    /** Commit in a group of its own (its group failed for a reason of its own). */
    boolean alone;

    /** A group of it failed: its commit may have happened, the reply lost. */
    volatile boolean triedBefore;

    Member(WriteRequest request, long deadline, long turn, boolean large) {
      this.request = request;
      this.deadline = deadline;
      this.turn = turn;
      this.large = large;
    }

    long remainingNanos() {
      return deadline - System.nanoTime();
    }
  }
}
