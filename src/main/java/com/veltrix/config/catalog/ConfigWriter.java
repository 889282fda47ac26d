package com.veltrix.config.catalog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.veltrix.config.catalog.CatalogStore.Head;
import com.veltrix.config.catalog.CatalogStore.NewVersion;
import com.veltrix.config.catalog.CatalogStore.WriteTransaction;
import com.veltrix.config.catalog.WriteCommand.Retire;
import com.veltrix.config.catalog.WriteCommand.Rollback;
import com.veltrix.config.catalog.WriteCommand.Upsert;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.stereotype.Service;

/**
 * The write use cases. Every call is one batch: validated in full before the database is touched,
 * then applied in one transaction at one new revision, or not at all. References are checked
 * against the state the whole batch leaves (so a batch may create what it references). Writing the
 * current content again is a no-op that consumes no revision.
 */
@Service
public class ConfigWriter {

  private static final ObjectMapper STORED_JSON =
      JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

  private final CatalogStore store;
  private final PayloadValidator validator;
  private final CatalogLimits limits;
  private final Clock clock;

  public ConfigWriter(
      CatalogStore store, PayloadValidator validator, CatalogLimits limits, Clock clock) {
    this.store = store;
    this.validator = validator;
    this.limits = limits;
    this.clock = clock;
  }

  /** A single-document write (PUT, DELETE, rollback); payload errors point into the body. */
  public WriteResult write(WriteCommand command, WriteContext context) {
    List<Prepared> prepared = List.of(prepare(command, ""));
    return apply(prepared, Optional.empty(), context).results().get(0);
  }

  /**
   * An atomic batch. With an idempotency key, a replay of the same request returns the first result
   * and writes nothing; the same key with a different request is refused.
   */
  public BatchResult batch(
      List<WriteCommand> writes, Optional<String> idempotencyKey, WriteContext context) {
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
    return apply(prepared, idempotencyKey, context);
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
        store.write(
            tx -> new Transaction(tx, context, now).run(prepared, idempotencyKey, requestHash));
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

  /** Marks a new version's revision until the write takes one. */
  private static final long UNASSIGNED = 0;

  /** The revision of a no-op batch that no attempt of this call wrote: the current one applies. */
  private static final long NOT_WRITTEN = -1;

  /** The record of a batch's results; its revision is the one the batch is written at. */
  private static IdempotencyRecord record(
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
    return new IdempotencyRecord(key, requestHash, UNASSIGNED, results, now);
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

  private record Prepared(WriteCommand command, Optional<ValidatedPayload> payload) {}

  private record Applied(BatchResult result, boolean changed, boolean replayed) {}

  /**
   * One attempt at the transaction; run again from scratch when the store retries. Reads and checks
   * come first (the idempotency record, the heads, the versions a retire or rollback copies, the
   * references), then {@link WriteTransaction#append} takes the revision and writes: the revision
   * row, where every writer in the cluster meets, is held for one or two statements and COMMIT.
   */
  private final class Transaction {
    private final WriteTransaction tx;
    private final WriteContext context;
    private final Instant now;
    private final Map<DocumentKey, Set<DocumentKey>> activated = new LinkedHashMap<>();
    private final List<DocumentKey> retired = new ArrayList<>();
    private final List<NewVersion> pending = new ArrayList<>();

    Transaction(WriteTransaction tx, WriteContext context, Instant now) {
      this.tx = tx;
      this.context = context;
      this.now = now;
    }

    Applied run(List<Prepared> prepared, Optional<String> idempotencyKey, String requestHash) {
      if (idempotencyKey.isPresent()) {
        Optional<IdempotencyRecord> previous = tx.idempotencyRecord(idempotencyKey.get());
        if (previous.isPresent()) {
          tx.discard();
          return new Applied(
              replay(previous.get(), idempotencyKey.get(), requestHash), false, true);
        }
      }
      Map<DocumentKey, Head> heads =
          tx.heads(prepared.stream().map(p -> p.command().key()).toList());
      List<WriteResult> results = new ArrayList<>(prepared.size());
      for (Prepared p : prepared) {
        results.add(apply(p, Optional.ofNullable(heads.get(p.command().key()))));
      }
      checkReferences();
      if (pending.isEmpty()) {
        tx.discard();
        // an earlier attempt of this very call may have committed (its reply was lost): that is
        // the batch's revision; otherwise the caller reads the current one
        OptionalLong revision =
            results.stream()
                .filter(r -> !r.unchanged())
                .mapToLong(r -> r.document().revision())
                .max();
        return new Applied(new BatchResult(revision.orElse(NOT_WRITTEN), results), false, false);
      }
      Optional<IdempotencyRecord> record =
          idempotencyKey.map(key -> record(key, requestHash, results, now));
      long revision = tx.append(pending, record);
      List<WriteResult> stamped =
          results.stream()
              .map(
                  r ->
                      r.document().revision() == UNASSIGNED
                          ? new WriteResult(r.document().atRevision(revision), r.unchanged())
                          : r)
              .toList();
      return new Applied(new BatchResult(revision, stamped), true, false);
    }

    private BatchResult replay(IdempotencyRecord previous, String key, String requestHash) {
      if (!previous.requestHash().equals(requestHash)) {
        throw new IdempotencyKeyReusedException(key);
      }
      List<WriteResult> results = new ArrayList<>();
      for (IdempotencyRecord.Result r : previous.results()) {
        DocumentKey docKey = new DocumentKey(r.kind(), r.id());
        Document document =
            tx.version(docKey, r.version()).orElseThrow(() -> DocumentNotFoundException.of(docKey));
        results.add(new WriteResult(document, r.unchanged()));
      }
      return new BatchResult(previous.revision(), results);
    }

    private WriteResult apply(Prepared prepared, Optional<Head> head) {
      WriteCommand command = prepared.command();
      DocumentKey key = command.key();
      try {
        command.precondition().check(key, head.map(Head::version).orElse(0L));
      } catch (PreconditionFailedException e) {
        return head.map(h -> currentVersion(key, h))
            .filter(d -> writtenByAnEarlierAttempt(d))
            .map(d -> new WriteResult(d, false))
            .orElseThrow(() -> e);
      }
      if (command instanceof Rollback r) {
        return rollback(key, head, r.toVersion());
      }
      if (command instanceof Retire) {
        return retire(key, head.orElseThrow(() -> DocumentNotFoundException.of(key)));
      }
      return upsert(key, head, prepared.payload().orElseThrow());
    }

    private WriteResult upsert(DocumentKey key, Optional<Head> head, ValidatedPayload payload) {
      if (head.isPresent()
          && head.get().status() == Status.ACTIVE
          && head.get().contentHash().equals(payload.contentHash())) {
        return unchanged(key, head.get());
      }
      activated.put(key, payload.references());
      return append(key, head, Status.ACTIVE, payload);
    }

    private WriteResult retire(DocumentKey key, Head head) {
      if (head.status() == Status.RETIRED) {
        return unchanged(key, head);
      }
      Document current = currentVersion(key, head);
      ValidatedPayload content =
          new ValidatedPayload(
              current.payload(),
              current.contentHash(),
              current.sizeBytes(),
              zoneOf(current.payload()),
              Set.of());
      retired.add(key);
      return append(key, Optional.of(head), Status.RETIRED, content);
    }

    private WriteResult rollback(DocumentKey key, Optional<Head> head, long toVersion) {
      Document target =
          tx.version(key, toVersion)
              .orElseThrow(
                  () -> new DocumentNotFoundException(key + " has no version " + toVersion));
      ValidatedPayload payload = validator.validate(key, parseStored(target.payload()));
      return upsert(key, head, payload);
    }

    /** A new version; its revision is assigned when {@link WriteTransaction#append} takes it. */
    private WriteResult append(
        DocumentKey key, Optional<Head> head, Status status, ValidatedPayload payload) {
      Document document =
          new Document(
              key.kind(),
              key.id(),
              head.map(Head::version).orElse(0L) + 1,
              UNASSIGNED,
              status,
              payload.contentHash(),
              payload.sizeBytes(),
              now,
              context.actor(),
              context.requestId(),
              payload.canonicalJson());
      pending.add(
          new NewVersion(document, payload.zone(), payload.references(), context.requestId()));
      return new WriteResult(document, false);
    }

    private WriteResult unchanged(DocumentKey key, Head head) {
      Document current = currentVersion(key, head);
      return new WriteResult(current, !writtenByAnEarlierAttempt(current));
    }

    /**
     * Whether {@code current} is this very call's write, committed by an earlier attempt whose
     * commit reply was lost (an ambiguous commit: a connection failure during COMMIT, or
     * CockroachDB's 40003). The call stamps every version with its request id and one microsecond
     * timestamp taken before its first attempt; both must match (neither alone is unique: clients
     * may reuse request ids, and two calls can start in the same microsecond). The retry then
     * reports that write instead of failing its precondition or calling it a no-op.
     */
    private boolean writtenByAnEarlierAttempt(Document current) {
      return current.updatedAt().equals(now)
          && current.updatedBy().equals(context.actor())
          && context.requestId().equals(current.requestId());
    }

    private Document currentVersion(DocumentKey key, Head head) {
      return tx.version(key, head.version())
          .orElseThrow(() -> new IllegalStateException("head of " + key + " has no version row"));
    }

    /**
     * Against the state the whole batch leaves, before anything is written: a reference must name a
     * document this batch makes ACTIVE, or one ACTIVE now that the batch does not retire; a retired
     * document must have no referrer outside the batch (referrers inside it are checked as
     * references). One query for the references, one for the referrers.
     */
    private void checkReferences() {
      Map<DocumentKey, Status> batch = new LinkedHashMap<>();
      pending.forEach(v -> batch.put(v.document().key(), v.document().status()));
      Set<DocumentKey> outside = new LinkedHashSet<>();
      activated.values().forEach(outside::addAll);
      outside.removeAll(batch.keySet());
      Map<DocumentKey, Head> heads = outside.isEmpty() ? Map.of() : tx.heads(outside);
      for (Map.Entry<DocumentKey, Set<DocumentKey>> written : activated.entrySet()) {
        List<DocumentKey> missing =
            written.getValue().stream()
                .filter(
                    ref ->
                        batch.containsKey(ref)
                            ? batch.get(ref) != Status.ACTIVE
                            : !heads.containsKey(ref) || heads.get(ref).status() != Status.ACTIVE)
                .toList();
        if (!missing.isEmpty()) {
          throw ReferenceConflictException.dangling(written.getKey(), missing);
        }
      }
      if (!retired.isEmpty()) {
        Map<DocumentKey, List<DocumentKey>> referrers = tx.referrers(retired);
        for (DocumentKey key : retired) {
          List<DocumentKey> still =
              referrers.getOrDefault(key, List.of()).stream()
                  .filter(referrer -> !batch.containsKey(referrer))
                  .limit(100)
                  .toList();
          if (!still.isEmpty()) {
            throw ReferenceConflictException.stillReferenced(key, still);
          }
        }
      }
    }
  }

  private static JsonNode parseStored(String canonicalJson) {
    try {
      return STORED_JSON.readTree(canonicalJson);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored payload is not JSON", e);
    }
  }

  private static Optional<String> zoneOf(String canonicalJson) {
    return Optional.ofNullable(parseStored(canonicalJson).get("zone")).map(JsonNode::textValue);
  }
}
