package com.veltrix.config.catalog.write;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.veltrix.config.catalog.CatalogStore.Appended;
import com.veltrix.config.catalog.CatalogStore.Head;
import com.veltrix.config.catalog.CatalogStore.NewVersion;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.CatalogStore.WriteTransaction;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.DocumentNotFoundException;
import com.veltrix.config.catalog.IdempotencyKeyReusedException;
import com.veltrix.config.catalog.IdempotencyRecord;
import com.veltrix.config.catalog.PreconditionFailedException;
import com.veltrix.config.catalog.ReferenceConflictException;
import com.veltrix.config.catalog.Status;
import com.veltrix.config.catalog.payload.PayloadValidator;
import com.veltrix.config.catalog.payload.ValidatedPayload;
import com.veltrix.config.catalog.write.GroupAttempt.Applied;
import com.veltrix.config.catalog.write.WriteCommand.Retire;
import com.veltrix.config.catalog.write.WriteCommand.Rollback;
import com.veltrix.config.catalog.write.WriteCommand.Upsert;
import com.veltrix.config.catalog.write.WriteRequest.Prepared;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What one request writes, decided from what the group's reads found (the state before the group)
 * without asking the database anything: its results in request order and the versions it appends.
 * References are checked against the state the whole request leaves, so a batch may create what it
 * references. Writing the current content again is a no-op that consumes no revision.
 */
final class RequestPlan {

  /** Marks a new version's revision until the append takes one. */
  static final long UNASSIGNED = 0;

  private static final ObjectMapper STORED_JSON =
      JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

  private final WriteRequest request;
  private final Map<DocumentKey, Head> heads;
  private final Map<VersionRef, Document> versions;
  private final PayloadValidator validator;
  private final Map<DocumentKey, Set<DocumentKey>> activated = new LinkedHashMap<>();
  private final List<DocumentKey> retired = new ArrayList<>();
  private final List<NewVersion> pending = new ArrayList<>();
  private final List<WriteResult> results = new ArrayList<>();

  private RequestPlan(
      WriteRequest request,
      Map<DocumentKey, Head> heads,
      Map<VersionRef, Document> versions,
      PayloadValidator validator) {
    this.request = request;
    this.heads = heads;
    this.versions = versions;
    this.validator = validator;
  }

  /**
   * The stored versions that planning {@code p} may read, given the heads: the version a rollback
   * restores, and the current version wherever the answer or the new version is built from it (a
   * retire, a rollback, a failed precondition, an upsert of the current content).
   */
  static Set<VersionRef> versionsWanted(Prepared p, Map<DocumentKey, Head> heads) {
    WriteCommand command = p.command();
    DocumentKey key = command.key();
    Set<VersionRef> wanted = new LinkedHashSet<>();
    if (command instanceof Rollback r) {
      wanted.add(new VersionRef(key.kind(), key.id(), r.toVersion()));
    }
    Head head = heads.get(key);
    if (head != null) {
      boolean unchanged =
          head.status() == Status.ACTIVE
              && p.payload().map(v -> v.contentHash().equals(head.contentHash())).orElse(false);
      if (!(command instanceof Upsert) || unchanged || !holds(command, head)) {
        wanted.add(new VersionRef(key.kind(), key.id(), head.version()));
      }
    }
    return wanted;
  }

  private static boolean holds(WriteCommand command, Head head) {
    try {
      command.precondition().check(command.key(), head.version());
      return true;
    } catch (PreconditionFailedException e) {
      return false;
    }
  }

  /** Plans every write of {@code request}; throws the first write's refusal. */
  static RequestPlan of(
      WriteRequest request,
      Map<DocumentKey, Head> heads,
      Map<VersionRef, Document> versions,
      PayloadValidator validator) {
    RequestPlan plan = new RequestPlan(request, heads, versions, validator);
    for (Prepared p : request.prepared()) {
      plan.results.add(plan.apply(p, Optional.ofNullable(heads.get(p.command().key()))));
    }
    return plan;
  }

  /** The first result of a request replayed with its idempotency key. */
  static Applied replay(
      WriteRequest request, IdempotencyRecord previous, Map<VersionRef, Document> versions) {
    if (!previous.requestHash().equals(request.requestHash())) {
      throw new IdempotencyKeyReusedException(previous.key());
    }
    List<WriteResult> results = new ArrayList<>();
    for (IdempotencyRecord.Result r : previous.results()) {
      Document document = versions.get(new VersionRef(r.kind(), r.id(), r.version()));
      if (document == null) {
        throw DocumentNotFoundException.of(new DocumentKey(r.kind(), r.id()));
      }
      results.add(new WriteResult(document, r.unchanged()));
    }
    return new Applied(new BatchResult(previous.revision(), results), false, true);
  }

  /**
   * The answer of a request that an earlier attempt committed ({@code mine}: the versions it wrote,
   * by document): each write reports the version it wrote, or, for a write that changed nothing,
   * the version that was current at that commit's revision.
   */
  static Applied committedEarlier(
      WriteRequest request, Map<DocumentKey, Document> mine, WriteTransaction tx) {
    long revision = mine.values().stream().mapToLong(Document::revision).max().orElseThrow();
    List<DocumentKey> unchanged =
        request.prepared().stream()
            .map(p -> p.command().key())
            .filter(key -> !mine.containsKey(key))
            .toList();
    Map<DocumentKey, Document> then = tx.versionsAt(unchanged, revision);
    List<WriteResult> results = new ArrayList<>();
    for (Prepared p : request.prepared()) {
      DocumentKey key = p.command().key();
      Document written = mine.get(key);
      Document current = written != null ? written : then.get(key);
      if (current == null) {
        throw new IllegalStateException(key + " has no version at revision " + revision);
      }
      results.add(new WriteResult(current, written == null));
    }
    return new Applied(new BatchResult(revision, results), true, false);
  }

  boolean writes() {
    return !pending.isEmpty();
  }

  List<NewVersion> pending() {
    return pending;
  }

  Set<DocumentKey> writtenKeys() {
    Set<DocumentKey> keys = new LinkedHashSet<>();
    pending.forEach(v -> keys.add(v.document().key()));
    return keys;
  }

  /** Every document this request's new versions reference. */
  Set<DocumentKey> referenced() {
    Set<DocumentKey> referenced = new LinkedHashSet<>();
    activated.values().forEach(referenced::addAll);
    return referenced;
  }

  /** The referenced documents that this request does not write itself. */
  Set<DocumentKey> referencedOutside() {
    Set<DocumentKey> outside = referenced();
    outside.removeAll(writtenKeys());
    return outside;
  }

  List<DocumentKey> retired() {
    return retired;
  }

  /** This request's idempotency record (its revision is assigned by the append). */
  Optional<IdempotencyRecord> record() {
    return request
        .idempotencyKey()
        .map(key -> ConfigWriter.record(key, request.requestHash(), results, request.now()));
  }

  /** The answer, once the group's append stored this request's versions. */
  Applied applied(Appended appended) {
    List<WriteResult> stamped =
        results.stream()
            .map(
                r ->
                    r.document().revision() == UNASSIGNED
                        ? new WriteResult(
                            r.document()
                                .stored(appended.versionOf(r.document()), appended.revision()),
                            r.unchanged())
                        : r)
            .toList();
    return new Applied(new BatchResult(appended.revision(), stamped), true, false);
  }

  /** The answer of a request that wrote nothing. */
  Applied notWritten() {
    // an earlier attempt of this very call may have committed (its reply was lost): that is the
    // batch's revision; otherwise the caller reads the current one
    OptionalLong earlier =
        results.stream().filter(r -> !r.unchanged()).mapToLong(r -> r.document().revision()).max();
    return new Applied(
        new BatchResult(earlier.orElse(ConfigWriter.NOT_WRITTEN), results), false, false);
  }

  private WriteResult apply(Prepared prepared, Optional<Head> head) {
    WriteCommand command = prepared.command();
    DocumentKey key = command.key();
    try {
      command.precondition().check(key, head.map(Head::version).orElse(0L));
    } catch (PreconditionFailedException e) {
      return head.map(h -> currentVersion(key, h))
          .filter(this::writtenByAnEarlierAttempt)
          .map(d -> new WriteResult(d, false))
          .orElseThrow(() -> e);
    }
    if (command instanceof Rollback r) {
      return rollback(key, head, r.toVersion());
    }
    if (command instanceof Retire) {
      return retire(key, head.orElseThrow(() -> DocumentNotFoundException.of(key)));
    }
    return upsert(key, head, prepared.payload().orElseThrow(), rebasable(command));
  }

  /**
   * Whether an upsert of this request needs its document's head only for the version number it
   * takes: no precondition. A rollback restores a version chosen against the head it read. With an
   * idempotency key too: its record marks the result as rebasable, and a replay reads the version
   * the write got at the record's revision.
   */
  private boolean rebasable(WriteCommand command) {
    return command.precondition().equals(Precondition.NONE);
  }

  private WriteResult upsert(
      DocumentKey key, Optional<Head> head, ValidatedPayload payload, boolean rebasable) {
    if (head.isPresent()
        && head.get().status() == Status.ACTIVE
        && head.get().contentHash().equals(payload.contentHash())) {
      return unchanged(key, head.get());
    }
    activated.put(key, payload.references());
    return append(key, head, Status.ACTIVE, payload, rebasable);
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
            Optional.ofNullable(parseStored(current.payload()).get("zone"))
                .map(JsonNode::textValue),
            Set.of());
    retired.add(key);
    return append(key, Optional.of(head), Status.RETIRED, content, false);
  }

  private WriteResult rollback(DocumentKey key, Optional<Head> head, long toVersion) {
    Document target = versions.get(new VersionRef(key.kind(), key.id(), toVersion));
    if (target == null) {
      throw new DocumentNotFoundException(key + " has no version " + toVersion);
    }
    return upsert(key, head, validator.validate(key, parseStored(target.payload())), false);
  }

  /**
   * A new version; its revision is assigned when the group's append takes one (and, if it is
   * rebasable and the head moved, its version too).
   */
  private WriteResult append(
      DocumentKey key,
      Optional<Head> head,
      Status status,
      ValidatedPayload payload,
      boolean rebasable) {
    Document document =
        new Document(
            key.kind(),
            key.id(),
            head.map(Head::version).orElse(0L) + 1,
            UNASSIGNED,
            status,
            payload.contentHash(),
            payload.sizeBytes(),
            request.now(),
            request.context().actor(),
            request.context().requestId(),
            payload.canonicalJson());
    pending.add(new NewVersion(document, payload.zone(), payload.references(), rebasable));
    return new WriteResult(document, false);
  }

  private WriteResult unchanged(DocumentKey key, Head head) {
    Document current = currentVersion(key, head);
    return new WriteResult(current, !writtenByAnEarlierAttempt(current));
  }

  /**
   * Whether {@code current} is this very call's write, committed by an earlier attempt whose commit
   * reply was lost (an ambiguous commit: a connection failure during COMMIT, or CockroachDB's
   * 40003). The call stamps every version with its request id and one microsecond timestamp taken
   * before its first attempt; both must match (neither alone is unique: clients may reuse request
   * ids, and two calls can start in the same microsecond). The retry then reports that write
   * instead of failing its precondition or calling it a no-op.
   */
  private boolean writtenByAnEarlierAttempt(Document current) {
    return current.updatedAt().equals(request.now())
        && current.updatedBy().equals(request.context().actor())
        && request.context().requestId().equals(current.requestId());
  }

  private Document currentVersion(DocumentKey key, Head head) {
    Document current = versions.get(new VersionRef(key.kind(), key.id(), head.version()));
    if (current == null) {
      throw new IllegalStateException("head of " + key + " has no version row");
    }
    return current;
  }

  /**
   * Against the state the whole request leaves: a reference must name a document this request makes
   * ACTIVE, or one ACTIVE now ({@code referencedHeads}) that the request does not retire; a retired
   * document must have no referrer outside the request (referrers inside it are checked as
   * references).
   */
  void checkReferences(
      Map<DocumentKey, Head> referencedHeads, Map<DocumentKey, List<DocumentKey>> referrers) {
    Map<DocumentKey, Status> batch = new LinkedHashMap<>();
    pending.forEach(v -> batch.put(v.document().key(), v.document().status()));
    for (Map.Entry<DocumentKey, Set<DocumentKey>> written : activated.entrySet()) {
      List<DocumentKey> missing =
          written.getValue().stream()
              .filter(
                  ref ->
                      batch.containsKey(ref)
                          ? batch.get(ref) != Status.ACTIVE
                          : !referencedHeads.containsKey(ref)
                              || referencedHeads.get(ref).status() != Status.ACTIVE)
              .toList();
      if (!missing.isEmpty()) {
        throw ReferenceConflictException.dangling(written.getKey(), missing);
      }
    }
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

  private static JsonNode parseStored(String canonicalJson) {
    try {
      return STORED_JSON.readTree(canonicalJson);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored payload is not JSON", e);
    }
  }
}
