package com.veltrix.config.catalog.write;

import com.veltrix.config.catalog.CatalogException;
import com.veltrix.config.catalog.CatalogStore.Appended;
import com.veltrix.config.catalog.CatalogStore.Head;
import com.veltrix.config.catalog.CatalogStore.NewVersion;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.CatalogStore.WriteTransaction;
import com.veltrix.config.catalog.ChangeEvent;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.IdempotencyRecord;
import com.veltrix.config.catalog.RevisionCommitted;
import com.veltrix.config.catalog.payload.PayloadValidator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * One attempt at the transaction of a group of write requests; run again from scratch when the
 * store retries. Every read is set-based over the whole group, so the number of statements is the
 * same for one single-document request and for a group of batches of 1,000:
 *
 * <ol>
 *   <li>the idempotency records of the requests that carry a key;
 *   <li>the heads of every document written;
 *   <li>the versions a replay answers with, a retire copies, a rollback restores, or a no-op
 *       reports;
 *   <li>the heads of the documents referenced from outside their own request, and the referrers of
 *       every document retired;
 *   <li>then {@link WriteTransaction#append} takes the revision and writes every accepted request
 *       at it (one or two statements), and COMMIT.
 * </ol>
 *
 * A retry after a failure that may have come after COMMIT (the reply lost: a cut connection,
 * CockroachDB's 40003) first reads the versions from those their earlier attempts appended ({@link
 * WriteRequest#appended}) on, by primary key range, for versions stamped with a request's time,
 * writer and request id: a request found there was committed by the earlier attempt and is answered
 * with what it wrote, never written again, even when another writer has moved the document's head
 * since (before, such a retry wrote the document a second time).
 *
 * <p>Each request is checked against the state before the group, as if it ran alone ({@link
 * RequestPlan}); a request whose check fails is answered alone. A request that touches a document
 * another accepted request of the group writes (or writes one the other reads) is deferred to the
 * next group, so the group's result is that of running its requests one after another.
 */
final class GroupAttempt {

  /** The change feed's order within a revision: kind, then id (byte order). */
  private static final Comparator<ChangeEvent> FEED_ORDER =
      Comparator.comparing((ChangeEvent e) -> e.kind().name()).thenComparing(ChangeEvent::id);

  private final WriteTransaction tx;
  private final PayloadValidator validator;
  private final IntPredicate mayHaveCommitted;
  private RevisionCommitted committed;
  private int rebased;

  /**
   * @param mayHaveCommitted whether the request at this index of the group was in an earlier
   *     attempt that failed (the commit may have happened)
   */
  GroupAttempt(WriteTransaction tx, PayloadValidator validator, IntPredicate mayHaveCommitted) {
    this.tx = tx;
    this.validator = validator;
    this.mayHaveCommitted = mayHaveCommitted;
  }

  GroupAttempt(WriteTransaction tx, PayloadValidator validator) {
    this(tx, validator, i -> false);
  }

  /**
   * The revision this attempt committed, with its change events; empty when it wrote nothing (all
   * its requests refused, deferred, no-ops or answered from an earlier attempt).
   */
  Optional<RevisionCommitted> committed() {
    return Optional.ofNullable(committed);
  }

  /** How many versions this attempt's append stored after a head that had moved. */
  int rebased() {
    return rebased;
  }

  /** What became of one request in this attempt. */
  sealed interface Outcome {}

  /** Answered: written, replayed, or a no-op. */
  record Done(Applied applied) implements Outcome {}

  /** Refused by its own checks; the other requests of the group are not affected. */
  record Refused(CatalogException failure) implements Outcome {}

  /** Overlaps a request accepted before it in this group: it goes into the next group. */
  record Deferred() implements Outcome {}

  /**
   * The outcome of a request. {@code revision} is its batch's revision, or {@link
   * ConfigWriter#NOT_WRITTEN} for a no-op that no attempt of this call wrote.
   */
  record Applied(BatchResult result, boolean changed, boolean replayed) {}

  /** Runs the attempt; the outcomes are in the order of {@code group}. */
  List<Outcome> run(List<WriteRequest> group) {
    Outcome[] outcomes = new Outcome[group.size()];
    Set<String> keysInGroup = new HashSet<>();
    List<Integer> checked = new ArrayList<>();
    for (int i = 0; i < group.size(); i++) {
      String key = group.get(i).idempotencyKey().orElse(null);
      if (key != null && !keysInGroup.add(key)) {
        outcomes[i] = new Deferred(); // the first with this key decides; this one replays it
      } else {
        checked.add(i);
      }
    }
    Map<String, IdempotencyRecord> records = tx.idempotencyRecords(keysInGroup);
    for (Map.Entry<Integer, Applied> earlier :
        committedEarlier(group, checked, records).entrySet()) {
      outcomes[earlier.getKey()] = new Done(earlier.getValue());
      checked.remove(Integer.valueOf(earlier.getKey())); // the element, not an index
    }

    Set<DocumentKey> written = new LinkedHashSet<>();
    for (int i : checked) {
      WriteRequest request = group.get(i);
      if (!request.idempotencyKey().map(records::containsKey).orElse(false)) {
        request.prepared().forEach(p -> written.add(p.command().key()));
      }
    }
    Map<DocumentKey, Head> heads = tx.heads(written);

    Set<VersionRef> wanted = new LinkedHashSet<>();
    for (int i : checked) {
      WriteRequest request = group.get(i);
      IdempotencyRecord record = request.idempotencyKey().map(records::get).orElse(null);
      if (record != null) {
        record.results().forEach(r -> wanted.add(new VersionRef(r.kind(), r.id(), r.version())));
      } else {
        request.prepared().forEach(p -> wanted.addAll(RequestPlan.versionsWanted(p, heads)));
      }
    }
    Map<VersionRef, Document> versions = new HashMap<>();
    for (Document d : tx.versions(wanted)) {
      versions.put(new VersionRef(d.kind(), d.id(), d.version()), d);
    }

    Map<Integer, RequestPlan> plans = new LinkedHashMap<>();
    for (int i : checked) {
      WriteRequest request = group.get(i);
      IdempotencyRecord record = request.idempotencyKey().map(records::get).orElse(null);
      try {
        if (record != null) {
          outcomes[i] = new Done(RequestPlan.replay(request, record, versions));
        } else {
          plans.put(i, RequestPlan.of(request, heads, versions, validator));
        }
      } catch (CatalogException e) {
        outcomes[i] = new Refused(e);
      }
    }
    checkReferences(plans, outcomes);
    accept(group, plans, outcomes);
    return List.of(outcomes);
  }

  /**
   * The requests of this group that an earlier, failed attempt committed after all, with their
   * answers: one query for the versions the group's earlier attempts appended, and one more for
   * each such request that left some of its documents unchanged. Only requests that may have
   * committed and have no idempotency record (a record is found by the ordinary replay) are looked
   * for.
   */
  private Map<Integer, Applied> committedEarlier(
      List<WriteRequest> group, List<Integer> checked, Map<String, IdempotencyRecord> records) {
    Set<VersionRef> appended = new LinkedHashSet<>();
    for (int i : checked) {
      WriteRequest request = group.get(i);
      if (mayHaveCommitted.test(i)
          && !request.idempotencyKey().map(records::containsKey).orElse(false)) {
        appended.addAll(request.appended());
      }
    }
    Map<Integer, Applied> answered = new LinkedHashMap<>();
    if (appended.isEmpty()) {
      return answered;
    }
    // from the versions planned on (an append may have rebased them): this request's stamp tells
    // which, if any, is its own
    List<Document> stamped = tx.versionsSince(appended);
    for (int i : checked) {
      WriteRequest request = group.get(i);
      Map<DocumentKey, Document> mine = new HashMap<>();
      for (Document d : stamped) {
        if (d.updatedAt().equals(request.now())
            && d.updatedBy().equals(request.context().actor())
            && request.context().requestId().equals(d.requestId())) {
          mine.put(d.key(), d);
        }
      }
      if (!mine.isEmpty()) {
        answered.put(i, RequestPlan.committedEarlier(request, mine, tx));
      }
    }
    return answered;
  }

  /** The reference checks of every planned request: two queries for the whole group. */
  private void checkReferences(Map<Integer, RequestPlan> plans, Outcome[] outcomes) {
    Set<DocumentKey> outside = new LinkedHashSet<>();
    Set<DocumentKey> retired = new LinkedHashSet<>();
    for (RequestPlan plan : plans.values()) {
      outside.addAll(plan.referencedOutside());
      retired.addAll(plan.retired());
    }
    Map<DocumentKey, Head> referenced = tx.heads(outside);
    Map<DocumentKey, List<DocumentKey>> referrers =
        retired.isEmpty() ? Map.of() : tx.referrers(retired);
    plans
        .entrySet()
        .removeIf(
            e -> {
              try {
                e.getValue().checkReferences(referenced, referrers);
                return false;
              } catch (CatalogException failure) {
                outcomes[e.getKey()] = new Refused(failure);
                return true;
              }
            });
  }

  /**
   * In arrival order, every request that does not overlap one accepted before it is answered; its
   * versions join the append. The rest are deferred.
   */
  private void accept(List<WriteRequest> group, Map<Integer, RequestPlan> plans, Outcome[] out) {
    Set<DocumentKey> writtenByAccepted = new HashSet<>();
    Set<DocumentKey> touchedByAccepted = new HashSet<>();
    for (int i = 0; i < group.size(); i++) {
      if (out[i] instanceof Deferred || out[i] instanceof Done) {
        continue; // replays read immutable versions: they overlap nothing
      }
      Set<DocumentKey> touched = touched(group.get(i), plans.get(i));
      Set<DocumentKey> writes = plans.containsKey(i) ? plans.get(i).writtenKeys() : Set.of();
      if (overlaps(touched, writtenByAccepted) || overlaps(writes, touchedByAccepted)) {
        out[i] = new Deferred();
        plans.remove(i);
        continue;
      }
      writtenByAccepted.addAll(writes);
      touchedByAccepted.addAll(touched);
    }
    List<NewVersion> pending = new ArrayList<>();
    List<IdempotencyRecord> records = new ArrayList<>();
    plans.forEach(
        (i, plan) -> {
          if (plan.writes()) {
            pending.addAll(plan.pending());
            plan.record().ifPresent(records::add);
            // before the append is sent: where a retry looks if its reply is lost (from this
            // version on: a rebasable write may be stored after a head that moved)
            for (NewVersion v : plan.pending()) {
              Document d = v.document();
              group.get(i).appended().add(new VersionRef(d.kind(), d.id(), d.version()));
            }
          }
        });
    Appended appended = null;
    if (pending.isEmpty()) {
      tx.discard();
    } else {
      appended = tx.append(pending, records);
      committed = new RevisionCommitted(appended.revision(), changeEvents(pending, appended));
      rebased = appended.rebased().size();
    }
    for (Map.Entry<Integer, RequestPlan> e : plans.entrySet()) {
      RequestPlan plan = e.getValue();
      out[e.getKey()] = new Done(plan.writes() ? plan.applied(appended) : plan.notWritten());
    }
  }

  /**
   * The change feed's events of the revision {@code appended}: one per version it wrote, in the
   * feed's order (kind, then id; byte order, CockroachDB's and a PostgreSQL in the C locale's).
   */
  private static List<ChangeEvent> changeEvents(List<NewVersion> written, Appended appended) {
    List<ChangeEvent> events = new ArrayList<>(written.size());
    for (NewVersion v : written) {
      Document d = v.document();
      events.add(
          new ChangeEvent(
              appended.revision(),
              d.kind(),
              d.id(),
              appended.versionOf(d),
              ChangeEvent.Type.of(d.status()),
              d.contentHash(),
              appended.committedAt()));
    }
    events.sort(FEED_ORDER);
    return events;
  }

  /** The documents a request's answer depends on: those it writes and those it references. */
  private static Set<DocumentKey> touched(WriteRequest request, RequestPlan plan) {
    Set<DocumentKey> touched = new HashSet<>();
    request.prepared().forEach(p -> touched.add(p.command().key()));
    if (plan != null) {
      touched.addAll(plan.referenced());
    }
    return touched;
  }

  private static boolean overlaps(Set<DocumentKey> a, Set<DocumentKey> b) {
    return a.stream().anyMatch(b::contains);
  }
}
