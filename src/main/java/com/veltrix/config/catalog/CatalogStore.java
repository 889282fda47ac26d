package com.veltrix.config.catalog;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * What the catalog needs from its database (implemented in {@code storage}). Reads are single
 * statements against the primary: never stale, no locks. Writes run in {@link #write}.
 */
public interface CatalogStore {

  /**
   * Runs {@code work} as one attempt at a write, and commits it unless the work {@linkplain
   * WriteTransaction#discard() discarded} it. The work reads and checks first, then takes the next
   * revision and writes with {@link WriteTransaction#append} (the only call that holds the revision
   * row), in a transaction that takes that row first and then re-checks what the reads saw. On a
   * transient failure (the reads having moved is one) the whole attempt, work included, is run
   * again; {@code work} must have no effect outside the store.
   */
  <T> T write(Function<WriteTransaction, T> work);

  /** Stores the record unless its key is already there (for batches that changed nothing). */
  void saveIdempotencyRecordIfAbsent(IdempotencyRecord record);

  long currentRevision();

  /** The current revision and the oldest one still retained, in one statement. */
  Revisions revisions();

  /**
   * @param current the revision of the last commit
   * @param oldestRetained the oldest revision whose state can still be read (history before it is
   *     pruned)
   */
  record Revisions(long current, long oldestRetained) {}

  Optional<Document> latest(DocumentKey key);

  Optional<Document> version(DocumentKey key, long version);

  /** The latest version written at or before {@code revision}. */
  Optional<Document> atRevision(DocumentKey key, long revision);

  /** The latest version at or before {@code revision} of each of {@code keys} that had one. */
  List<Document> atRevision(Collection<DocumentKey> keys, long revision);

  /** Versions older than {@code beforeVersion}, newest first. */
  List<Document> history(DocumentKey key, long beforeVersion, int limit);

  /** Each given version that exists, in no particular order. */
  List<Document> versions(Collection<VersionRef> refs);

  /** The latest version (any status) of each key that exists, in no particular order. */
  List<Document> latestOf(Collection<DocumentKey> keys);

  /**
   * The ACTIVE documents of {@code kind} (in {@code zone}, if given) at {@code revision}, with ids
   * after {@code afterId}, ordered by id; no payloads.
   */
  List<ManifestEntry> manifest(
      Kind kind, Optional<String> zone, long revision, String afterId, int limit);

  /**
   * The state at {@code revision} of the documents of {@code filter.kind()} with ids after {@code
   * afterId} that match the filter, ordered by id.
   */
  List<Document> list(ListFilter filter, long revision, String afterId, int limit);

  /**
   * The first {@code maxRows} change events (of every kind) with revisions in ({@code
   * afterRevision}, {@code throughRevision}], ordered by revision (then kind, id). The work is
   * bounded by {@code maxRows}, however many revisions lie behind.
   */
  List<ChangeEvent> changes(long afterRevision, long throughRevision, int maxRows);

  /** For each of {@code keys}, the documents whose current version references it. */
  Map<DocumentKey, List<DocumentKey>> referrers(Collection<DocumentKey> keys);

  /**
   * The last revision committed at or before {@code at} (0 if none), the current revision, and
   * whether {@code at} is still in the future by the database's clock; one statement.
   */
  TimePoint timePoint(Instant at);

  /** What {@link #timePoint} found. */
  record TimePoint(long revision, long current, long oldestRetained, boolean future) {}

  /** All events of one revision of the given kinds, however many. */
  List<ChangeEvent> changesAt(long revision, Set<Kind> kinds);

  /**
   * The work of one write. Everything but {@link #append} reads, before the revision row is taken,
   * and each read is one statement however many keys it is given. What the append's writes depend
   * on ({@link #heads}, {@link #referrers}, the absence of the records it stores) it checks again
   * in the statement that takes the row; if any of it moved, nothing is written and the attempt
   * fails as a serialization failure (40001), to be run again. The one exception is the head of a
   * {@linkplain NewVersion#rebasable rebasable} write, which the append stores after whatever head
   * it finds.
   */
  interface WriteTransaction {

    /**
     * Whether an earlier attempt of this same write may have committed: its COMMIT's reply was lost
     * (a connection that broke, CockroachDB's 40003), so what it wrote may be in the database.
     * False on the first attempt, and after an attempt the database refused (a serialization
     * failure, a lock wait cut, a deadlock, or reads found moved): that attempt wrote nothing.
     */
    boolean earlierAttemptMayHaveCommitted();

    /** The heads of those of {@code keys} that exist. */
    Map<DocumentKey, Head> heads(Collection<DocumentKey> keys);

    /** Each given version that exists, in no particular order. */
    List<Document> versions(Collection<VersionRef> refs);

    /**
     * Every version of each given document from the given version on, in no particular order: where
     * a retry looks for what an earlier attempt may have appended, which is at the version that
     * attempt planned or, if the append {@linkplain NewVersion#rebasable rebased} it, after it.
     */
    List<Document> versionsSince(Collection<VersionRef> from);

    /** For each of {@code keys}, the documents whose current version references it. */
    Map<DocumentKey, List<DocumentKey>> referrers(Collection<DocumentKey> keys);

    /** The records stored under those of {@code keys} that have one. */
    Map<String, IdempotencyRecord> idempotencyRecords(Collection<String> keys);

    /**
     * For each of {@code keys} that existed then, its newest version at or before {@code revision}.
     */
    Map<DocumentKey, Document> versionsAt(Collection<DocumentKey> keys, long revision);

    /**
     * Takes the next revision and, at it, stores the new versions (each with its own writer, time
     * and request id; their documents' own revision is ignored), moves each head, replaces each
     * document's references and stores the {@code records} (their revision ignored): one statement,
     * a second only when there are references to insert, and commits with the last of them (in the
     * same round trip, so the revision row is held for one). Nothing may follow it in the
     * transaction. Returns the revision, its commit time and the versions it rebased.
     */
    Appended append(List<NewVersion> versions, List<IdempotencyRecord> records);

    /** Roll back instead of committing: nothing changed, the revision is not consumed. */
    void discard();
  }

  /**
   * What {@link WriteTransaction#append} committed: the revision and its commit time (the
   * database's clock, as the change feed reports it; null for a preview, which commits nothing).
   */
  record Appended(long revision, Instant committedAt, Map<DocumentKey, Long> rebased) {

    public Appended(long revision, Instant committedAt) {
      this(revision, committedAt, Map.of());
    }

    /** The version {@code planned} was stored at: its own, unless the append rebased it. */
    public long versionOf(Document planned) {
      return rebased.getOrDefault(planned.key(), planned.version());
    }
  }

  /** The latest version of a document, as the write path needs it. */
  record Head(long version, long revision, Status status, String contentHash) {}

  /**
   * A version to append, with what the store indexes besides the document itself.
   *
   * @param rebasable whether the write depends on its document's head only for the number it takes
   *     (an upsert with no precondition, whose answer is built after the append; its idempotency
   *     record, if any, marks the result so that a replay reads the version it got): if another
   *     writer moved the head since the reads, the append stores it after that head instead of
   *     failing, unless that head already holds this content (then the write is a no-op, which the
   *     attempt run again finds)
   */
  record NewVersion(
      Document document, Optional<String> zone, Set<DocumentKey> references, boolean rebasable) {

    public NewVersion(Document document, Optional<String> zone, Set<DocumentKey> references) {
      this(document, zone, references, false);
    }
  }

  /** A document version by its coordinates. */
  record VersionRef(Kind kind, String id, long version) {}

  /** Listing filter: a kind, and optionally a status and a zone. */
  record ListFilter(Kind kind, Optional<Status> status, Optional<String> zone) {}
}
