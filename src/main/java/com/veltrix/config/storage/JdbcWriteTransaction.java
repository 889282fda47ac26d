package com.veltrix.config.storage;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.catalog.CatalogStore.Appended;
import com.veltrix.config.catalog.CatalogStore.Head;
import com.veltrix.config.catalog.CatalogStore.NewVersion;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.CatalogStore.WriteTransaction;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.IdempotencyRecord;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.Status;
import com.veltrix.config.storage.DocumentRows.StoredAt;
import com.veltrix.config.storage.DocumentRows.StoredResult;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcOperations;
import org.springframework.jdbc.core.namedparam.SqlParameterSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.core.simple.JdbcClient.StatementSpec;
import org.springframework.transaction.TransactionStatus;

/**
 * One attempt at a write: reads until {@link #append}, then one transaction that takes the
 * revision, writes and commits in one round trip ({@link #TAKE_ROW}, {@link #APPEND}), two only
 * when there are references to insert.
 *
 * <p>The reads run before that transaction begins, each a statement of its own at READ COMMITTED
 * (the connection in autocommit), and the append re-checks in SQL everything they saw that its
 * writes depend on: the heads, the referrers of retired documents, the absence of the idempotency
 * records it stores. If any moved, the append writes nothing and the attempt fails as a
 * serialization failure (40001), to be run again with fresh reads. The exception is a {@linkplain
 * NewVersion#rebasable rebasable} write, an upsert with no precondition: its head may have moved,
 * and the append stores it after the head it finds, unless that head already holds its content (a
 * no-op the next attempt finds). Under a fault, a write that waited out the blip often found
 * another pod had written its document meanwhile, and its second attempt ran out of time
 * (docs/decisions.md, "What the REST 503s under a fault are now").
 *
 * <p>The transaction runs at READ COMMITTED and its first query locks the revision row ({@link
 * #TAKE_ROW}); the append is the next statement, so its snapshot is taken once the row is held and
 * its checks see every write committed before (every writer of documents, references and
 * idempotency records holds that row while it writes). Writers of other pods queue on the row and
 * go on when its holder commits. At SERIALIZABLE PostgreSQL failed every waiter with 40001 when the
 * holder committed (its snapshot predated the lock), and the waiter ran again from its reads: with
 * three pods at 1 ms each way, 223-273 retries and 16-30 refusals per 25 s run, against none and
 * 1-2 (docs/performance.md, "Writers queue on the revision row"). On CockroachDB {@code SELECT ...
 * FOR UPDATE} queues waiters the same way (its documented use); without a licence the transaction
 * is upgraded to SERIALIZABLE, where the lock read pushes the transaction's timestamp past the
 * holder's commit before anything else is read. A transaction with no references to insert travels
 * as one batch, which CockroachDB can retry on the server.
 */
final class JdbcWriteTransaction implements WriteTransaction {

  /**
   * The revision and its commit time, the versions, the heads, the old references and the
   * idempotency record in one statement, after {@link #TAKE_ROW} has the revision row, which is
   * held only until the COMMIT that follows it in the same round trip. Each table is modified once
   * (CockroachDB refuses two ON CONFLICT / UPDATE / DELETE modifications of one table in a
   * statement, cockroachdb/cockroach#71595); the data-modifying CTEs are all referenced from the
   * final SELECT, and PostgreSQL runs them against one snapshot, so the DELETE of old references
   * never sees the new ones, which a second statement inserts.
   *
   * <p>The revision advances only if nothing the reads saw has moved: no head read at another
   * version or no longer absent, except the head of a rebasable write ({@code :rebaseHashes} holds
   * its content hash), which may have moved anywhere but to this content; the references to retired
   * documents exactly those seen (as many as there are, and all of those seen still there: two
   * counts, so that both sides are index lookups; an anti-join against the seen pairs was planned
   * as a nested loop over them, 80 ms for 1,000 retires); no idempotency record stored under a key
   * this append stores. Otherwise {@code r} is empty, every other CTE writes nothing (each reads
   * {@code r}), the statement returns no row and the COMMIT after it commits nothing. The checks
   * are uncorrelated subqueries over the keys the reads saw, run while the row is held: on
   * PostgreSQL 15 with 1,000,000 documents, all of them take 13-20 ms for 1,000 keys (EXPLAIN
   * ANALYZE, generic and custom plans), a fraction of a millisecond for a few.
   *
   * <p>Every new version takes the number after its document's head as found here ({@code w}): for
   * all but rebasable writes the check made that the head the plan saw, so it is the planned
   * number. {@code w} reads {@code documents}, which {@code d} modifies in the same statement: on
   * PostgreSQL every part of the statement reads one snapshot, taken before it; CockroachDB runs
   * the modifying CTEs first and reads at the statement's start as well (a statement does not see
   * its own writes since v20.1: cockroachdb/cockroach#42862, and #70731 shows a later scan reading
   * the value from before the statement's upsert). The statement returns {@code kind/version/id} of
   * each version stored at another number than planned (usually none). Each version also records
   * the revision, status and zone of the head it replaces ({@code prior_*}, V28), read from that
   * same {@code h} at no extra lookup: what {@link Listings} filters a page's changed documents by
   * without looking each one's version up.
   *
   * <p>Sent {@linkplain ArrayRows#shaped shaped} for its row counts: a source of none or one row is
   * a subscript of its arrays instead of an {@code unnest}, so that PostgreSQL plans a write of one
   * document once per session rather than at every write (package-private for that test).
   */
  static final String APPEND =
      """
      WITH r AS (
             UPDATE revision_counter SET revision = revision + 1,
                    committed_at = greatest(clock_timestamp(), committed_at)
              WHERE id = 1
                AND NOT EXISTS (
                      SELECT 1
                        FROM unnest(CAST(:seenKinds AS TEXT[]), CAST(:seenIds AS TEXT[]),
                                    CAST(:seenVersions AS BIGINT[]),
                                    CAST(:rebaseHashes AS TEXT[]))
                          AS s (kind, id, version, rebase_hash)
                        LEFT JOIN documents h ON h.kind = s.kind AND h.id = s.id
                       WHERE h.version IS DISTINCT FROM s.version
                         AND (s.rebase_hash IS NULL
                              OR h.version IS NULL
                              OR (h.status = 'ACTIVE' AND h.content_hash = s.rebase_hash)))
                AND (SELECT count(*)
                       FROM unnest(CAST(:retiredKinds AS TEXT[]), CAST(:retiredIds AS TEXT[]))
                         AS g (kind, id)
                       JOIN document_references x ON x.ref_kind = g.kind AND x.ref_id = g.id)
                  = (SELECT count(*)
                       FROM unnest(CAST(:seenRefKinds AS TEXT[]), CAST(:seenRefIds AS TEXT[]),
                                   CAST(:seenReferrerKinds AS TEXT[]),
                                   CAST(:seenReferrerIds AS TEXT[]))
                         AS k (ref_kind, ref_id, kind, id)
                       JOIN document_references y
                         ON y.ref_kind = k.ref_kind AND y.ref_id = k.ref_id
                        AND y.kind = k.kind AND y.id = k.id)
                AND NOT EXISTS (
                      SELECT 1
                        FROM unnest(CAST(:recordKeys AS TEXT[])) AS n (idempotency_key)
                        JOIN idempotency_records e ON e.idempotency_key = n.idempotency_key)
             RETURNING revision, committed_at),
           t AS (
             INSERT INTO revision_times (revision, committed_at)
             SELECT r.revision, r.committed_at FROM r
             RETURNING 1),
           w AS (
             SELECT x.kind, x.id, x.version AS planned, coalesce(h.version, 0) + 1 AS version,
                    x.status, x.content_hash, x.size_bytes, x.zone, x.payload, x.shard,
                    x.updated_at, x.updated_by, x.request_id,
                    h.revision AS prior_revision, h.status AS prior_status, h.zone AS prior_zone
               FROM r, unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[]),
                              CAST(:versions AS BIGINT[]), CAST(:statuses AS TEXT[]),
                              CAST(:hashes AS TEXT[]), CAST(:sizes AS BIGINT[]),
                              CAST(:zones AS TEXT[]), CAST(:payloads AS TEXT[]),
                              CAST(:shards AS BIGINT[]), CAST(:updatedAts AS TIMESTAMPTZ[]),
                              CAST(:updatedBys AS TEXT[]), CAST(:requestIds AS TEXT[]))
                 AS x (kind, id, version, status, content_hash, size_bytes, zone, payload, shard,
                       updated_at, updated_by, request_id)
               LEFT JOIN documents h ON h.kind = x.kind AND h.id = x.id),
           v AS (
             INSERT INTO document_versions
                 (kind, id, version, revision, status, content_hash, size_bytes, zone, payload,
                  shard, updated_at, updated_by, request_id, prior_revision, prior_status,
                  prior_zone)
             SELECT w.kind, w.id, w.version, r.revision, w.status, w.content_hash, w.size_bytes,
                    w.zone, w.payload, w.shard, w.updated_at, w.updated_by, w.request_id,
                    w.prior_revision, w.prior_status, w.prior_zone
               FROM r, w
             RETURNING 1),
           d AS (
             INSERT INTO documents (kind, id, version, revision, status, content_hash, zone)
             SELECT w.kind, w.id, w.version, r.revision, w.status, w.content_hash, w.zone
               FROM r, w
             ON CONFLICT (kind, id) DO UPDATE
                SET version = excluded.version,
                    revision = excluded.revision,
                    status = excluded.status,
                    content_hash = excluded.content_hash,
                    zone = excluded.zone
             RETURNING 1),
           gone AS (
             DELETE FROM document_references
              WHERE EXISTS (SELECT 1 FROM r)
                AND (kind, id) IN (SELECT g.kind, g.id
                                     FROM unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[]))
                                       AS g (kind, id))
             RETURNING 1),
           i AS (
             INSERT INTO idempotency_records
                 (idempotency_key, request_hash, revision, results, created_at)
             SELECT k.idempotency_key, k.request_hash, r.revision, k.results, k.created_at
               FROM r, unnest(CAST(:recordKeys AS TEXT[]), CAST(:recordHashes AS TEXT[]),
                              CAST(:recordResults AS TEXT[]),
                              CAST(:recordCreatedAts AS TIMESTAMPTZ[]))
                 AS k (idempotency_key, request_hash, results, created_at)
             RETURNING 1)
      SELECT r.revision, r.committed_at,
             (SELECT count(*) FROM v) AS versions,
             (SELECT count(*) FROM d) AS heads,
             (SELECT count(*) FROM gone) AS references_removed,
             (SELECT count(*) FROM i) AS records,
             (SELECT count(*) FROM t) AS times,
             (SELECT array_agg(w.kind || '/' || CAST(w.version AS TEXT) || '/' || w.id)
                FROM w
               WHERE w.version <> w.planned) AS rebased
        FROM r
      """;

  /** {@link #APPEND} parsed once for its sources of rows. */
  private static final ArrayRows APPEND_ROWS = ArrayRows.of(APPEND);

  /** Sent after the last statement that holds the revision row, in the same round trip. */
  private static final String COMMIT = ";\nCOMMIT";

  /**
   * The transaction's first statements, sent with its BEGIN (pgjdbc's, as the connection leaves
   * autocommit) and the append in one round trip: the isolation (the pool's too, said here because
   * the correctness of the checks depends on each statement's own snapshot) and the row's lock.
   */
  private static final String READ_COMMITTED = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED;\n";

  /**
   * Takes the revision row: a writer that finds it held waits here (bounded by the lock wait set
   * before it) and, once it has the row, the statements after it see every earlier commit.
   */
  private static final String TAKE_ROW =
      "SELECT revision FROM revision_counter WHERE id = 1 FOR UPDATE;\n";

  /** What the reads saw that the append checks: a head's version, or null for none. */
  private record SeenHead(DocumentKey key, Long version) {}

  /** A reference from {@code referrer} to a retired document, seen by the reads. */
  private record SeenReference(DocumentKey retired, DocumentKey referrer) {}

  private final List<SeenHead> seenHeads = new ArrayList<>();
  private final Set<DocumentKey> retired = new LinkedHashSet<>();
  private final Set<SeenReference> seenReferences = new LinkedHashSet<>();

  private final JdbcClient jdbc;
  private final NamedParameterJdbcOperations statements;
  private final ObjectMapper json;
  private final TransactionStatus status;
  private final long sessionLockTimeoutMillis;
  private final boolean earlierAttemptMayHaveCommitted;
  private boolean committed;

  private JdbcWriteTransaction(
      JdbcClient jdbc,
      NamedParameterJdbcOperations statements,
      ObjectMapper json,
      TransactionStatus status,
      long sessionLockTimeoutMillis,
      boolean earlierAttemptMayHaveCommitted) {
    this.jdbc = jdbc;
    this.statements = statements;
    this.json = json;
    this.status = status;
    this.sessionLockTimeoutMillis = sessionLockTimeoutMillis;
    this.earlierAttemptMayHaveCommitted = earlierAttemptMayHaveCommitted;
  }

  /**
   * Begins an attempt on the connection of the Spring transaction {@code status}: the connection
   * goes back to autocommit for the reads (no round trip: nothing was sent on it yet), and leaves
   * it in {@link #append}, whose first statement sets the transaction's isolation (JDBC's {@code
   * setTransactionIsolation} would cost one round trip before and one after). {@link #end} must
   * follow, whatever happens, before Spring commits or rolls back.
   */
  static JdbcWriteTransaction begin(
      JdbcClient jdbc,
      NamedParameterJdbcOperations statements,
      ObjectMapper json,
      TransactionStatus status,
      long sessionLockTimeoutMillis,
      boolean earlierAttemptMayHaveCommitted) {
    JdbcWriteTransaction tx =
        new JdbcWriteTransaction(
            jdbc,
            statements,
            json,
            status,
            sessionLockTimeoutMillis,
            earlierAttemptMayHaveCommitted);
    tx.autoCommit(true);
    return tx;
  }

  @Override
  public boolean earlierAttemptMayHaveCommitted() {
    return earlierAttemptMayHaveCommitted;
  }

  /**
   * Leaves autocommit (unless the append did): Spring's commit and rollback refuse a connection in
   * autocommit. No round trip: the transaction has sent nothing, or its COMMIT. A connection that
   * broke keeps the failure that broke it.
   */
  void end() {
    try {
      autoCommit(false);
    } catch (RuntimeException e) {
      // the connection is closed; the failure that closed it is on its way up
    }
  }

  private void autoCommit(boolean on) {
    statements
        .getJdbcOperations()
        .execute(
            (ConnectionCallback<Void>)
                connection -> {
                  if (connection.getAutoCommit() != on) {
                    connection.setAutoCommit(on);
                  }
                  return null;
                });
  }

  /**
   * What is left of the deadline at this moment, as the lock wait of what follows in the same round
   * trip (a number computed here, not input).
   */
  private static String lockWait(long sessionLockTimeoutMillis) {
    return "SET LOCAL lock_timeout = "
        + TransactionRunner.lockWaitMillis(sessionLockTimeoutMillis)
        + ";\n";
  }

  /** What {@link #heads} reads of a head, whichever statement reads it. */
  private static final String HEAD_COLUMNS =
      "SELECT d.kind, d.id, d.version, d.revision, d.status, d.content_hash";

  @Override
  public Map<DocumentKey, Head> heads(Collection<DocumentKey> keys) {
    Map<DocumentKey, Head> heads = new HashMap<>();
    if (keys.isEmpty()) {
      return heads;
    }
    StatementSpec read = keys.size() == 1 ? oneHead(keys.iterator().next()) : manyHeads(keys);
    read.query(
        rs -> {
          heads.put(
              new DocumentKey(Kind.valueOf(rs.getString("kind")), rs.getString("id")),
              new Head(
                  rs.getLong("version"),
                  rs.getLong("revision"),
                  Status.valueOf(rs.getString("status")),
                  rs.getString("content_hash")));
        });
    for (DocumentKey key : keys) {
      Head head = heads.get(key);
      seenHeads.add(new SeenHead(key, head == null ? null : head.version()));
    }
    return heads;
  }

  /**
   * The head of a write of one document, the common case, by primary key: PostgreSQL keeps a
   * generic plan for it after five executions, where the {@code unnest} join is planned again for
   * every execution (its generic plan cannot know the arrays' length and never wins: 0.04-0.14 ms
   * of planning each time, docs/performance.md); CockroachDB plans it once, at PREPARE, on its
   * placeholder fast path (equalities on a prefix of exactly one covering index: {@code documents}
   * has only its primary key), where under its default {@code force_custom_plan} (v24.3) the join
   * is optimized again at every EXECUTE.
   */
  private StatementSpec oneHead(DocumentKey key) {
    return jdbc.sql(HEAD_COLUMNS + " FROM documents d WHERE d.kind = :kind AND d.id = :id")
        .param("kind", key.kind().name())
        .param("id", key.id());
  }

  /** The heads of several documents (a group's, a batch's): one statement, planned each time. */
  private StatementSpec manyHeads(Collection<DocumentKey> keys) {
    return jdbc.sql(
            HEAD_COLUMNS
                + """
                 FROM unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[])) AS r (kind, id)
                 JOIN documents d ON d.kind = r.kind AND d.id = r.id
                """)
        .param("kinds", DocumentRows.kindArray(keys))
        .param("ids", DocumentRows.idArray(keys));
  }

  @Override
  public List<Document> versions(Collection<VersionRef> refs) {
    return refs.isEmpty() ? List.of() : DocumentRows.selectVersions(jdbc, refs);
  }

  @Override
  public List<Document> versionsSince(Collection<VersionRef> from) {
    return from.isEmpty() ? List.of() : DocumentRows.selectVersionsSince(jdbc, from);
  }

  @Override
  public Map<DocumentKey, List<DocumentKey>> referrers(Collection<DocumentKey> keys) {
    Map<DocumentKey, List<DocumentKey>> referrers = DocumentRows.referrers(jdbc, keys);
    retired.addAll(keys);
    referrers.forEach(
        (key, from) -> from.forEach(r -> seenReferences.add(new SeenReference(key, r))));
    return referrers;
  }

  /**
   * The records under {@code keys}, each result at the version its write got. A rebasable write's
   * result holds the version it planned; where any does, {@link DocumentRows#versionsStoredAt}
   * reads the number of the version each such document got at the record's revision, which is that
   * write's (a group writes a document once): one statement by primary key, and one more only for
   * those stored higher than planned.
   */
  @Override
  public Map<String, IdempotencyRecord> idempotencyRecords(Collection<String> keys) {
    Map<String, IdempotencyRecord> records = new HashMap<>();
    if (keys.isEmpty()) {
      return records;
    }
    record Row(String key, String hash, long revision, List<StoredResult> results, Instant at) {}
    List<Row> rows =
        jdbc.sql(
                """
                SELECT i.idempotency_key, i.request_hash, i.revision, i.results, i.created_at
                  FROM unnest(CAST(:keys AS TEXT[])) AS k (idempotency_key)
                  JOIN idempotency_records i ON i.idempotency_key = k.idempotency_key
                """)
            .param("keys", keys.toArray(String[]::new))
            .query(
                (rs, n) ->
                    new Row(
                        rs.getString("idempotency_key"),
                        rs.getString("request_hash"),
                        rs.getLong("revision"),
                        DocumentRows.readResults(json, rs.getString("results")),
                        rs.getTimestamp("created_at").toInstant()))
            .list();
    Set<StoredAt> planned = new LinkedHashSet<>();
    rows.forEach(
        row ->
            row.results().stream()
                .filter(StoredResult::rebasable)
                .forEach(r -> planned.add(new StoredAt(r.ref(), row.revision()))));
    Map<StoredAt, Long> stored = DocumentRows.versionsStoredAt(jdbc, planned);
    for (Row row : rows) {
      List<IdempotencyRecord.Result> results =
          row.results().stream()
              .map(
                  r ->
                      r.at(
                          r.rebasable()
                              // none only if history was pruned: answered as any pruned version
                              ? stored.getOrDefault(new StoredAt(r.ref(), row.revision()), 0L)
                              : r.version()))
              .toList();
      records.put(
          row.key(),
          new IdempotencyRecord(row.key(), row.hash(), row.revision(), results, row.at()));
    }
    return records;
  }

  @Override
  public Map<DocumentKey, Document> versionsAt(Collection<DocumentKey> keys, long revision) {
    Map<DocumentKey, Document> found = new HashMap<>();
    StatesAtRevision.of(jdbc, keys, revision).forEach(d -> found.put(d.key(), d));
    return found;
  }

  @Override
  public Appended append(List<NewVersion> versions, List<IdempotencyRecord> records) {
    refuseAfterCommit();
    if (versions.isEmpty()) {
      throw new IllegalArgumentException("nothing to append");
    }
    List<DocumentKey> keys = versions.stream().map(v -> v.document().key()).toList();
    Set<VersionRef> plannedRebasable = new HashSet<>(); // their records' results say so
    for (NewVersion v : versions) {
      if (v.rebasable()) {
        plannedRebasable.add(
            new VersionRef(v.document().kind(), v.document().id(), v.document().version()));
      }
    }
    MapSqlParameterSource columns =
        new MapSqlParameterSource()
            .addValue("kinds", DocumentRows.kindArray(keys))
            .addValue("ids", DocumentRows.idArray(keys))
            .addValue("versions", column(versions, v -> v.document().version(), Long[]::new))
            .addValue(
                "statuses", column(versions, v -> v.document().status().name(), String[]::new))
            .addValue("hashes", column(versions, v -> v.document().contentHash(), String[]::new))
            .addValue("sizes", column(versions, v -> v.document().sizeBytes(), Long[]::new))
            .addValue("zones", column(versions, v -> v.zone().orElse(null), String[]::new))
            .addValue("payloads", column(versions, v -> v.document().payload(), String[]::new))
            .addValue(
                "shards",
                column(
                    versions,
                    v -> (long) JdbcCatalogStore.shardOf(v.document().kind(), v.document().id()),
                    Long[]::new))
            .addValue(
                "updatedAts",
                column(versions, v -> Timestamp.from(v.document().updatedAt()), Timestamp[]::new))
            .addValue("updatedBys", column(versions, v -> v.document().updatedBy(), String[]::new))
            .addValue("requestIds", column(versions, v -> v.document().requestId(), String[]::new))
            .addValue(
                "recordKeys", records.stream().map(IdempotencyRecord::key).toArray(String[]::new))
            .addValue(
                "recordHashes",
                records.stream().map(IdempotencyRecord::requestHash).toArray(String[]::new))
            .addValue(
                "recordResults",
                records.stream()
                    .map(r -> DocumentRows.writeResults(json, r.results(), plannedRebasable))
                    .toArray(String[]::new))
            .addValue(
                "recordCreatedAts",
                records.stream().map(r -> Timestamp.from(r.createdAt())).toArray(Timestamp[]::new));
    addSeen(columns, versions);
    // BEGIN, the isolation, the lock wait and the row's lock go ahead of the statement in the same
    // round trip, and COMMIT after the last statement that holds the row: the row is held for one
    // round trip
    boolean references = versions.stream().anyMatch(v -> !v.references().isEmpty());
    autoCommit(false);
    Appended appended =
        appendedRow(
            READ_COMMITTED
                + lockWait(sessionLockTimeoutMillis)
                + TAKE_ROW
                + APPEND_ROWS.shaped(columns)
                + (references ? "" : COMMIT),
            columns,
            rs -> {
              if (rs.getLong("versions") != versions.size()
                  || rs.getLong("heads") != versions.size()
                  || rs.getLong("records") != records.size()) {
                throw new IllegalStateException("the append wrote a partial batch");
              }
              return new Appended(
                  rs.getLong("revision"),
                  DocumentRows.instantOrNull(rs.getTimestamp("committed_at")),
                  rebased(rs));
            });
    if (appended == null) {
      // nothing written; without references the COMMIT sent has ended an empty transaction
      committed = !references;
      throw new OptimisticLockingFailureException(
          READS_MOVED, new SQLException(READS_MOVED, "40001"));
    }
    if (references) {
      insertReferencesAndCommit(versions);
    }
    committed = true;
    return appended;
  }

  /** The versions the append stored after a head that had moved, by document. */
  private static Map<DocumentKey, Long> rebased(ResultSet rs) throws SQLException {
    java.sql.Array column = rs.getArray("rebased");
    if (column == null) {
      return Map.of(); // none: array_agg of no row
    }
    Map<DocumentKey, Long> rebased = new HashMap<>();
    for (String entry : (String[]) column.getArray()) {
      String[] kindVersionId = entry.split("/", 3); // a kind and a version hold no /
      rebased.put(
          new DocumentKey(Kind.valueOf(kindVersionId[0]), kindVersionId[2]),
          Long.parseLong(kindVersionId[1]));
    }
    return rebased;
  }

  private static final String READS_MOVED =
      "what this write read changed before it took the revision row; reading again";

  /**
   * The append's checks: what {@link #heads}, {@link #referrers} saw, and for the head of each
   * rebasable write the content it stores (a head that moved is a conflict only if it holds that
   * content already).
   */
  private void addSeen(MapSqlParameterSource columns, List<NewVersion> versions) {
    Map<DocumentKey, String> rebasable = new HashMap<>();
    for (NewVersion v : versions) {
      if (v.rebasable()) {
        rebasable.put(v.document().key(), v.document().contentHash());
      }
    }
    List<DocumentKey> heads = seenHeads.stream().map(SeenHead::key).toList();
    List<DocumentKey> targets = seenReferences.stream().map(SeenReference::retired).toList();
    List<DocumentKey> referrers = seenReferences.stream().map(SeenReference::referrer).toList();
    columns
        .addValue("seenKinds", DocumentRows.kindArray(heads))
        .addValue("seenIds", DocumentRows.idArray(heads))
        .addValue("seenVersions", seenHeads.stream().map(SeenHead::version).toArray(Long[]::new))
        .addValue("rebaseHashes", heads.stream().map(rebasable::get).toArray(String[]::new))
        .addValue("retiredKinds", DocumentRows.kindArray(retired))
        .addValue("retiredIds", DocumentRows.idArray(retired))
        .addValue("seenRefKinds", DocumentRows.kindArray(targets))
        .addValue("seenRefIds", DocumentRows.idArray(targets))
        .addValue("seenReferrerKinds", DocumentRows.kindArray(referrers))
        .addValue("seenReferrerIds", DocumentRows.idArray(referrers));
  }

  /**
   * Runs {@code sql}, several statements sent in one round trip, and maps the first row of the
   * second result set, the append's (null if it has none; the first is {@link #TAKE_ROW}'s). pgjdbc
   * reads every statement's answer before it returns, so a failure of any of them (COMMIT's
   * included) is thrown here; after one, the database skipped the rest.
   */
  private <T> T appendedRow(String sql, SqlParameterSource params, FirstRow<T> mapper) {
    return statements.execute(
        sql,
        params,
        (PreparedStatement ps) -> {
          boolean rows = ps.execute();
          for (int resultSets = rows ? 1 : 0; !rows || resultSets < 2; ) {
            if (!rows && ps.getUpdateCount() == -1) {
              throw new IllegalStateException("no row from the append");
            }
            rows = ps.getMoreResults(); // past the SETs' counts and TAKE_ROW's row
            resultSets += rows ? 1 : 0;
          }
          try (ResultSet rs = ps.getResultSet()) {
            return rs.next() ? mapper.map(rs) : null; // null: the append's checks failed
          }
        });
  }

  private interface FirstRow<T> {
    T map(ResultSet rs) throws SQLException;
  }

  private void insertReferencesAndCommit(List<NewVersion> versions) {
    List<DocumentKey> referrers = new ArrayList<>();
    List<DocumentKey> referenced = new ArrayList<>();
    for (NewVersion v : versions) {
      for (DocumentKey ref : v.references()) {
        referrers.add(v.document().key());
        referenced.add(ref);
      }
    }
    statements.update(
        """
            INSERT INTO document_references (ref_kind, ref_id, kind, id)
            SELECT r.ref_kind, r.ref_id, r.kind, r.id
              FROM unnest(CAST(:refKinds AS TEXT[]), CAST(:refIds AS TEXT[]),
                          CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[]))
                AS r (ref_kind, ref_id, kind, id)
            """
            + COMMIT,
        new MapSqlParameterSource()
            .addValue("refKinds", DocumentRows.kindArray(referenced))
            .addValue("refIds", DocumentRows.idArray(referenced))
            .addValue("kinds", DocumentRows.kindArray(referrers))
            .addValue("ids", DocumentRows.idArray(referrers)));
  }

  @Override
  public void discard() {
    refuseAfterCommit();
    end();
    TransactionRunner.discard(status);
  }

  /** The append sent COMMIT: a discard or a second append would silently not do what it says. */
  private void refuseAfterCommit() {
    if (committed) {
      throw new IllegalStateException("this transaction was committed by its append");
    }
  }

  private static <T> T[] column(
      List<NewVersion> versions, Function<NewVersion, T> value, IntFunction<T[]> array) {
    return versions.stream().map(value).toArray(array);
  }
}
