package com.veltrix.config.catalog.write;

import com.veltrix.config.catalog.CatalogException;
import com.veltrix.config.catalog.CatalogLimits;
import com.veltrix.config.catalog.CatalogStore;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.IdempotencyRecord;
import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.PayloadTooLargeException;
import com.veltrix.config.catalog.Violation;
import com.veltrix.config.catalog.payload.CanonicalJson;
import com.veltrix.config.catalog.payload.PayloadValidator;
import com.veltrix.config.catalog.payload.ValidatedPayload;
import com.veltrix.config.catalog.write.GroupAttempt.Applied;
import com.veltrix.config.catalog.write.WriteCommand.Rollback;
import com.veltrix.config.catalog.write.WriteCommand.Upsert;
import com.veltrix.config.catalog.write.WriteRequest.Prepared;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.stereotype.Service;

/**
 * The write use cases. Every call is one batch: validated in full before the database is touched,
 * then committed at one new revision ({@link WriteGroups}: together with the other requests waiting
 * in this pod), or not at all ({@link RequestPlan} says what a batch writes).
 */
@Service
public class ConfigWriter {

  private final CatalogStore store;
  private final WriteGroups groups;
  private final PayloadValidator validator;
  private final CatalogLimits limits;
  private final Clock clock;

  ConfigWriter(
      CatalogStore store,
      WriteGroups groups,
      PayloadValidator validator,
      CatalogLimits limits,
      Clock clock) {
    this.store = store;
    this.groups = groups;
    this.validator = validator;
    this.limits = limits;
    this.clock = clock;
  }

  /**
   * A single-document write (PUT, DELETE, rollback); payload errors point into the body. With an
   * idempotency key it is a batch of one write under that key: a replay returns the first result.
   */
  public WriteResult write(
      WriteCommand command, Optional<String> idempotencyKey, WriteContext context) {
    List<Prepared> prepared = List.of(prepare(command, ""));
    return apply(prepared, idempotencyKey, context).results().get(0);
  }

  /**
   * An atomic batch. With an idempotency key, a replay of the same request returns the first result
   * and writes nothing; the same key with a different request is refused.
   */
  public BatchResult batch(
      List<WriteCommand> writes, Optional<String> idempotencyKey, WriteContext context) {
    return apply(prepareBatch(writes), idempotencyKey, context);
  }

  /**
   * Checks a batch as {@link #batch} would before touching the database (shape, duplicates, every
   * payload, the limits), for a batch that is stored now and written later (a schedule).
   */
  public void validateBatch(List<WriteCommand> writes) {
    prepareBatch(writes);
  }

  /**
   * The current state with {@code planned} applied one after another, each checked by the same code
   * that will write it (references, {@code ifMatch}, retires still referenced), against the state
   * the batches before it leave. Nothing is written and the revision row is never taken.
   */
  public Preview preview(List<Preview.Planned> planned) {
    long base = store.currentRevision();
    PreviewTransaction tx = new PreviewTransaction(store);
    List<String> applied = new ArrayList<>();
    for (Preview.Planned batch : planned) {
      try {
        List<Prepared> prepared = prepareBatch(batch.writes());
        WriteRequest request =
            new WriteRequest(
                prepared,
                Optional.empty(),
                requestHash(prepared),
                batch.context(),
                batch.applyAt().truncatedTo(ChronoUnit.MICROS));
        if (new GroupAttempt(tx, validator).run(List.of(request)).get(0)
            instanceof GroupAttempt.Done) {
          applied.add(batch.id());
        }
      } catch (CatalogException e) {
        // it would fail when applied: the preview leaves it out, as the applier will
      }
    }
    return new Preview(base, List.copyOf(applied), new LinkedHashMap<>(tx.overlay()));
  }

  private List<Prepared> prepareBatch(List<WriteCommand> writes) {
    if (writes.isEmpty()) {
      throw new InvalidInputException(List.of(Violation.at("/writes", "at least one write")));
    }
    if (writes.size() > limits.maxBatchWrites()) {
      throw new PayloadTooLargeException(
          "batch has " + writes.size() + " writes; the limit is " + limits.maxBatchWrites());
    }
    List<Violation> violations = new ArrayList<>();
    List<Prepared> prepared = new ArrayList<>();
    Set<DocumentKey> seen = new HashSet<>();
    for (int i = 0; i < writes.size(); i++) {
      WriteCommand write = writes.get(i);
      if (!seen.add(write.key())) {
        violations.add(
            Violation.at("/writes/" + i + "/id", write.key() + " is written twice in this batch"));
        continue;
      }
      try {
        prepared.add(prepare(write, "/writes/" + i + "/payload"));
      } catch (InvalidInputException e) {
        violations.addAll(e.violations());
      }
    }
    if (!violations.isEmpty()) {
      throw new InvalidInputException(violations);
    }
    long totalBytes =
        prepared.stream()
            .mapToLong(p -> p.payload().map(ValidatedPayload::sizeBytes).orElse(0L))
            .sum();
    if (totalBytes > limits.maxBatchSize().toBytes()) {
      throw new PayloadTooLargeException(
          "batch payloads add up to "
              + totalBytes
              + " bytes; the limit is "
              + limits.maxBatchSize().toBytes());
    }
    return prepared;
  }

  private Prepared prepare(WriteCommand command, String pointer) {
    if (command instanceof Upsert upsert) {
      try {
        return new Prepared(
            command, Optional.of(validator.validate(upsert.key(), upsert.payload())));
      } catch (InvalidInputException e) {
        throw new InvalidInputException(
            e.violations().stream().map(v -> v.under(pointer)).toList());
      }
    }
    if (command instanceof Rollback rollback && rollback.toVersion() < 1) {
      throw new InvalidInputException(
          List.of(Violation.at("/toVersion", "must be a version number, 1 or more")));
    }
    return new Prepared(command, Optional.empty());
  }

  private BatchResult apply(
      List<Prepared> prepared, Optional<String> idempotencyKey, WriteContext context) {
    String requestHash = requestHash(prepared);
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS); // the databases' precision
    Applied applied =
        groups.submit(new WriteRequest(prepared, idempotencyKey, requestHash, context, now));
    if (applied.changed() || applied.replayed()) {
      return applied.result();
    }
    BatchResult unchanged = applied.result();
    if (unchanged.revision() == NOT_WRITTEN) { // neither by this attempt nor by an earlier one
      unchanged = new BatchResult(store.currentRevision(), unchanged.results());
    }
    if (idempotencyKey.isPresent()) {
      store.saveIdempotencyRecordIfAbsent(
          record(idempotencyKey.get(), requestHash, unchanged.results(), now)
              .atRevision(unchanged.revision()));
    }
    return unchanged;
  }

  /** The revision of a no-op batch that no attempt of this call wrote: the current one applies. */
  static final long NOT_WRITTEN = -1;

  /** The record of a batch's results; its revision is the one the batch is written at. */
  static IdempotencyRecord record(
      String key, String requestHash, List<WriteResult> written, Instant now) {
    List<IdempotencyRecord.Result> results =
        written.stream()
            .map(
                r ->
                    new IdempotencyRecord.Result(
                        r.document().kind(),
                        r.document().id(),
                        r.document().version(),
                        r.unchanged()))
            .toList();
    return new IdempotencyRecord(key, requestHash, RequestPlan.UNASSIGNED, results, now);
  }

  private static String requestHash(List<Prepared> prepared) {
    String canonical =
        prepared.stream()
            .map(
                p -> {
                  WriteCommand c = p.command();
                  String what =
                      c instanceof Rollback r
                          ? "rollback " + r.toVersion()
                          : p.payload().map(v -> "upsert " + v.contentHash()).orElse("retire");
                  return c.key() + " " + what + " " + c.precondition();
                })
            .collect(Collectors.joining("\n"));
    return CanonicalJson.sha256(canonical);
  }
}
