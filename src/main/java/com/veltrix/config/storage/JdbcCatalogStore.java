package com.veltrix.config.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.catalog.CatalogStore;
import com.veltrix.config.catalog.ChangeEvent;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.IdempotencyRecord;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.ManifestEntry;
import com.veltrix.config.catalog.Status;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.TransactionStatus;

/**
 * The catalog's SQL, all of it: written in the dialect CockroachDB and PostgreSQL share, with
 * explicit column lists and named parameters. A write reads and checks first, then takes the
 * revision in the statement that writes ({@link #APPEND}); that row lock queues writers, so
 * revision order is commit order, and it is held for one or two statements and COMMIT.
 */
@Repository
class JdbcCatalogStore implements CatalogStore {

  /** The revision index is spread over this many shards (see V4/V5 migrations). */
  static final int SHARDS = 16;

  private static final List<Integer> ALL_SHARDS = IntStream.range(0, SHARDS).boxed().toList();
  private static final String VERSION_COLUMNS =
      "kind, id, version, revision, status, content_hash, size_bytes, updated_at, updated_by,"
          + " request_id, payload";

  /**
   * A page of heads of one kind, by id after {@code :afterId}, each with its current version (a
   * primary-key lookup). A head written at or before {@code :revision} is the document's state at
   * that revision, so it is filtered here by status and zone; a head written after it (changed
   * since) comes back unfiltered, to be resolved by {@link #VERSIONS_AT_REVISION}. No correlated
   * subquery: the per-document {@code LATERAL ... ORDER BY version DESC LIMIT 1} this replaces was
   * 1.6 ms a page on PostgreSQL and is decorrelated by CockroachDB's optimizer into a scan of every
   * version (cockroachdb/cockroach #120866, #165983); an ordered scan of the {@code documents}
   * primary key joined to {@code document_versions} is planned the same on both. The repeated
   * bounds on {@code v} let PostgreSQL's merge join start at {@code :afterId}: without them it read
   * every version before it (225 ms for a page in the middle of 100,000 documents; 5.6 ms with
   * them, EXPLAIN ANALYZE in docs/decisions.md).
   */
  private static final String HEADS_AT_REVISION =
      """
        FROM documents d
        JOIN document_versions v ON v.kind = d.kind AND v.id = d.id AND v.version = d.version
       WHERE d.kind = :kind
         AND d.id > :afterId
         AND v.kind = :kind
         AND v.id > :afterId
         AND (d.revision > :revision
              OR ((CAST(:status AS TEXT) IS NULL OR d.status = :status)
                  AND (CAST(:zone AS TEXT) IS NULL OR v.zone = :zone)))
       ORDER BY d.id
       LIMIT :limit
      """;

  /**
   * For documents whose head changed after {@code :revision}: the newest version of each at or
   * before it (none for a document created later). {@code DISTINCT ON} over the primary key's
   * prefix, which both databases support and plan as a lookup per document.
   */
  private static final String VERSIONS_AT_REVISION =
      """
        FROM unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[])) AS r (kind, id)
        JOIN document_versions v ON v.kind = r.kind AND v.id = r.id
       WHERE v.revision <= :revision
       ORDER BY v.kind, v.id, v.version DESC
      """;

  private static final String STATE_COLUMNS =
      "v.kind, v.id, v.version, v.revision, v.status, v.content_hash, v.size_bytes, v.zone,"
          + " v.updated_at, v.updated_by, v.request_id, ";

  /** A document's state at a revision, and the revision its head was written at. */
  private record State(Document document, Optional<String> zone, long headRevision) {}

  /**
   * The state at {@code revision} of the documents that match {@code filter}, by id after {@code
   * afterId}, at most {@code limit}: served from the heads, with one lookup for the heads that
   * changed since (usually none). A page whose candidates were filtered out is topped up from the
   * next ids.
   */
  private List<Document> stateAt(
      ListFilter filter, long revision, String afterId, int limit, boolean payloads) {
    String columns = STATE_COLUMNS + (payloads ? "v.payload" : "CAST('' AS TEXT) AS payload");
    List<Document> page = new ArrayList<>();
    String after = afterId;
    while (page.size() < limit) {
      List<State> heads =
          jdbc.sql("SELECT d.revision AS head_revision, " + columns + HEADS_AT_REVISION)
              .param("kind", filter.kind().name())
              .param("afterId", after)
              .param("revision", revision)
              .param("status", filter.status().map(Enum::name).orElse(null))
              .param("zone", filter.zone().orElse(null))
              .param("limit", limit)
              .query((rs, n) -> state(rs, rs.getLong("head_revision")))
              .list();
      if (heads.isEmpty()) {
        break;
      }
      Map<String, State> resolved = resolve(heads, revision, columns);
      for (State head : heads) {
        State at = head.headRevision() <= revision ? head : resolved.get(head.document().id());
        if (at != null && matches(at, filter)) {
          page.add(at.document());
          if (page.size() == limit) {
            break;
          }
        }
      }
      if (heads.size() < limit) {
        break; // no more heads
      }
      after = heads.get(heads.size() - 1).document().id();
    }
    return page;
  }

  private Map<String, State> resolve(List<State> heads, long revision, String columns) {
    List<DocumentKey> changed =
        heads.stream()
            .filter(h -> h.headRevision() > revision)
            .map(h -> h.document().key())
            .toList();
    Map<String, State> resolved = new HashMap<>();
    if (changed.isEmpty()) {
      return resolved;
    }
    jdbc.sql("SELECT DISTINCT ON (v.kind, v.id) " + columns + VERSIONS_AT_REVISION)
        .param("kinds", kindArray(changed))
        .param("ids", idArray(changed))
        .param("revision", revision)
        .query((rs, n) -> state(rs, rs.getLong("revision")))
        .list()
        .forEach(state -> resolved.put(state.document().id(), state));
    return resolved;
  }

  private static State state(ResultSet rs, long headRevision) throws java.sql.SQLException {
    return new State(
        DOCUMENT.mapRow(rs, 0), Optional.ofNullable(rs.getString("zone")), headRevision);
  }

  private static boolean matches(State state, ListFilter filter) {
    return filter.status().map(s -> s == state.document().status()).orElse(true)
        && filter.zone().map(z -> state.zone().map(z::equals).orElse(false)).orElse(true);
  }

  private static final TypeReference<List<IdempotencyRecord.Result>> RESULTS =
      new TypeReference<>() {};

  private final JdbcClient jdbc;
  private final TransactionRunner runner;
  private final ObjectMapper json;
  private final DatabaseProperties database;

  JdbcCatalogStore(
      JdbcClient jdbc, TransactionRunner runner, ObjectMapper json, DatabaseProperties database) {
    this.jdbc = jdbc;
    this.runner = runner;
    this.json = json;
    this.database = database;
  }

  static int shardOf(Kind kind, String id) {
    return Math.floorMod((kind.name() + "/" + id).hashCode(), SHARDS);
  }

  /**
   * Each attempt's first statement makes it SERIALIZABLE and bounds its lock wait by its own
   * deadline, before the revision row is taken (so outside the critical section), in one round
   * trip: JDBC's {@code setTransactionIsolation} would cost one more before and one after every
   * transaction. The lock wait is a number computed here, not input.
   */
  @Override
  public <T> T write(Function<WriteTransaction, T> work) {
    return runner.inTransaction(
        status -> {
          long wait = TransactionRunner.lockWaitMillis(database.lockTimeout().toMillis());
          jdbc.sql("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE; SET LOCAL lock_timeout = " + wait)
              .update();
          return work.apply(new JdbcWriteTransaction(status));
        });
  }

  @Override
  public void saveIdempotencyRecordIfAbsent(IdempotencyRecord record) {
    runner.inTransaction(
        status ->
            jdbc.sql(
                    """
                    INSERT INTO idempotency_records
                        (idempotency_key, request_hash, revision, results, created_at)
                    VALUES (:key, :hash, :revision, :results, :createdAt)
                    ON CONFLICT (idempotency_key) DO NOTHING
                    """)
                .paramSource(idempotencyParams(record))
                .update());
  }

  @Override
  public long currentRevision() {
    return runner.read(
        () ->
            jdbc.sql("SELECT revision FROM revision_counter WHERE id = 1")
                .query(Long.class)
                .single());
  }

  @Override
  public Revisions revisions() {
    return runner.read(
        () ->
            jdbc.sql(
                    """
                    SELECT c.revision AS current_revision, h.revision AS oldest_retained
                      FROM revision_counter c CROSS JOIN history_horizon h
                     WHERE c.id = 1 AND h.id = 1
                    """)
                .query(
                    (rs, n) ->
                        new Revisions(
                            rs.getLong("current_revision"), rs.getLong("oldest_retained")))
                .single());
  }

  @Override
  public Optional<Document> latest(DocumentKey key) {
    return atRevision(key, Long.MAX_VALUE);
  }

  @Override
  public Optional<Document> version(DocumentKey key, long version) {
    return runner.read(() -> selectVersion(key, version));
  }

  private Optional<Document> selectVersion(DocumentKey key, long version) {
    return jdbc.sql(
            "SELECT "
                + VERSION_COLUMNS
                + " FROM document_versions WHERE kind = :kind AND id = :id AND version = :version")
        .param("kind", key.kind().name())
        .param("id", key.id())
        .param("version", version)
        .query(DOCUMENT)
        .optional();
  }

  @Override
  public Optional<Document> atRevision(DocumentKey key, long revision) {
    return runner.read(
        () ->
            jdbc.sql(
                    "SELECT "
                        + VERSION_COLUMNS
                        + """
                         FROM document_versions
                        WHERE kind = :kind AND id = :id AND revision <= :revision
                        ORDER BY version DESC
                        LIMIT 1
                        """)
                .param("kind", key.kind().name())
                .param("id", key.id())
                .param("revision", revision)
                .query(DOCUMENT)
                .optional());
  }

  @Override
  public List<Document> history(DocumentKey key, long beforeVersion, int limit) {
    return runner.read(
        () ->
            jdbc.sql(
                    "SELECT "
                        + VERSION_COLUMNS
                        + """
                         FROM document_versions
                        WHERE kind = :kind AND id = :id AND version < :before
                        ORDER BY version DESC
                        LIMIT :limit
                        """)
                .param("kind", key.kind().name())
                .param("id", key.id())
                .param("before", beforeVersion)
                .param("limit", limit)
                .query(DOCUMENT)
                .list());
  }

  /**
   * Batch lookups join an {@code unnest} of parameter arrays instead of a row-value {@code IN}
   * list: PostgreSQL spent 250 ms planning a 1,000-tuple {@code IN} (0.6 ms this way).
   */
  @Override
  public List<Document> versions(Collection<VersionRef> refs) {
    return refs.isEmpty() ? List.of() : runner.read(() -> selectVersions(refs));
  }

  private List<Document> selectVersions(Collection<VersionRef> refs) {
    return jdbc.sql(
            """
            SELECT v.kind, v.id, v.version, v.revision, v.status, v.content_hash,
                   v.size_bytes, v.updated_at, v.updated_by, v.request_id, v.payload
              FROM unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[]),
                          CAST(:versions AS BIGINT[])) AS r (kind, id, version)
              JOIN document_versions v
                ON v.kind = r.kind AND v.id = r.id AND v.version = r.version
            """)
        .param("kinds", refs.stream().map(r -> r.kind().name()).toArray(String[]::new))
        .param("ids", refs.stream().map(VersionRef::id).toArray(String[]::new))
        .param("versions", refs.stream().map(VersionRef::version).toArray(Long[]::new))
        .query(DOCUMENT)
        .list();
  }

  @Override
  public List<Document> latestOf(Collection<DocumentKey> keys) {
    if (keys.isEmpty()) {
      return List.of();
    }
    return runner.read(
        () ->
            jdbc.sql(
                    """
                    SELECT v.kind, v.id, v.version, v.revision, v.status, v.content_hash,
                           v.size_bytes, v.updated_at, v.updated_by, v.request_id, v.payload
                      FROM unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[])) AS r (kind, id)
                      JOIN documents d ON d.kind = r.kind AND d.id = r.id
                      JOIN document_versions v
                        ON v.kind = d.kind AND v.id = d.id AND v.version = d.version
                    """)
                .param("kinds", kindArray(keys))
                .param("ids", idArray(keys))
                .query(DOCUMENT)
                .list());
  }

  @Override
  public List<ManifestEntry> manifest(
      Kind kind, Optional<String> zone, long revision, String afterId, int limit) {
    ListFilter active = new ListFilter(kind, Optional.of(Status.ACTIVE), zone);
    return runner.read(
        () ->
            stateAt(active, revision, afterId, limit, false).stream()
                .map(
                    d ->
                        new ManifestEntry(
                            d.kind(), d.id(), d.version(), d.contentHash(), d.sizeBytes()))
                .toList());
  }

  private static <T> T[] column(
      List<NewVersion> versions, Function<NewVersion, T> value, IntFunction<T[]> array) {
    return versions.stream().map(value).toArray(array);
  }

  private static String[] kindArray(Collection<DocumentKey> keys) {
    return keys.stream().map(k -> k.kind().name()).toArray(String[]::new);
  }

  private static String[] idArray(Collection<DocumentKey> keys) {
    return keys.stream().map(DocumentKey::id).toArray(String[]::new);
  }

  @Override
  public List<Document> list(ListFilter filter, long revision, String afterId, int limit) {
    return runner.read(() -> stateAt(filter, revision, afterId, limit, true));
  }

  /**
   * One branch per shard, each an ordered scan of {@code (shard, revision)} that stops after {@code
   * :maxRows}: a page reads at most {@code SHARDS × maxRows} index entries however far behind the
   * reader is. Written as uncorrelated UNION ALL branches (the shard numbers are the schema's
   * constants, not values) rather than a LATERAL over the shards: CockroachDB decorrelates a
   * LATERAL with ORDER BY ... LIMIT n into a window function over a full scan
   * (cockroachdb/cockroach #165983, #68299); a constrained scan with a LIMIT is planned the same on
   * both databases.
   */
  private static final String CHANGES_BY_SHARD =
      firstRowsOfEveryShard("revision, kind, id, version, status, content_hash")
          + " ORDER BY revision, kind, id LIMIT :maxRows";

  /**
   * {@code columns} of the first {@code :maxRows} version rows with revisions in ({@code :after},
   * {@code :through}] of every shard, each shard an ordered scan of the feed index with its own
   * limit; the caller orders and cuts the union.
   */
  static String firstRowsOfEveryShard(String columns) {
    return IntStream.range(0, SHARDS)
            .mapToObj(
                shard ->
                    "(SELECT "
                        + columns
                        + " FROM document_versions WHERE shard = "
                        + shard
                        + " AND revision > :after AND revision <= :through"
                        + " ORDER BY revision LIMIT :maxRows)")
            .collect(Collectors.joining("\n UNION ALL\n", "SELECT * FROM (", ""))
        + ") AS c";
  }

  @Override
  public List<ChangeEvent> changes(long afterRevision, long throughRevision, int maxRows) {
    return runner.read(
        () ->
            jdbc.sql(CHANGES_BY_SHARD)
                .param("after", afterRevision)
                .param("through", throughRevision)
                .param("maxRows", maxRows)
                .query(CHANGE)
                .list());
  }

  @Override
  public List<ChangeEvent> changesAt(long revision, Set<Kind> kinds) {
    return runner.read(
        () ->
            jdbc.sql(
                    """
                    SELECT revision, kind, id, version, status, content_hash
                      FROM document_versions
                     WHERE shard IN (:shards) AND revision = :revision AND kind IN (:kinds)
                     ORDER BY kind, id
                    """)
                .param("shards", ALL_SHARDS)
                .param("revision", revision)
                .param("kinds", kindNames(kinds))
                .query(CHANGE)
                .list());
  }

  private static List<String> kindNames(Set<Kind> kinds) {
    return (kinds.isEmpty() ? Set.of(Kind.values()) : kinds).stream().map(Enum::name).toList();
  }

  private MapSqlParameterSource idempotencyParams(IdempotencyRecord record) {
    return new MapSqlParameterSource()
        .addValue("key", record.key())
        .addValue("hash", record.requestHash())
        .addValue("revision", record.revision())
        .addValue("results", writeResults(record.results()))
        .addValue("createdAt", Timestamp.from(record.createdAt()));
  }

  private String writeResults(List<IdempotencyRecord.Result> results) {
    try {
      return json.writeValueAsString(results);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise idempotency results", e);
    }
  }

  /**
   * The revision, the versions, the heads, the old references and the idempotency record in one
   * statement: the revision row is taken by this statement and held only until COMMIT. Each table
   * is modified once (CockroachDB refuses two ON CONFLICT / UPDATE / DELETE modifications of one
   * table in a statement, cockroachdb/cockroach#71595); the data-modifying CTEs are all referenced
   * from the final SELECT, and PostgreSQL runs them against one snapshot, so the DELETE of old
   * references never sees the new ones, which a second statement inserts.
   */
  private static final String APPEND =
      """
      WITH r AS (
             UPDATE revision_counter SET revision = revision + 1 WHERE id = 1
             RETURNING revision),
           v AS (
             INSERT INTO document_versions
                 (kind, id, version, revision, status, content_hash, size_bytes, zone, payload,
                  shard, updated_at, updated_by, request_id)
             SELECT x.kind, x.id, x.version, r.revision, x.status, x.content_hash, x.size_bytes,
                    x.zone, x.payload, x.shard, x.updated_at, x.updated_by, x.request_id
               FROM r, unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[]),
                              CAST(:versions AS BIGINT[]), CAST(:statuses AS TEXT[]),
                              CAST(:hashes AS TEXT[]), CAST(:sizes AS BIGINT[]),
                              CAST(:zones AS TEXT[]), CAST(:payloads AS TEXT[]),
                              CAST(:shards AS BIGINT[]), CAST(:updatedAts AS TIMESTAMPTZ[]),
                              CAST(:updatedBys AS TEXT[]), CAST(:requestIds AS TEXT[]))
                 AS x (kind, id, version, status, content_hash, size_bytes, zone, payload, shard,
                       updated_at, updated_by, request_id)
             RETURNING 1),
           d AS (
             INSERT INTO documents (kind, id, version, revision, status, content_hash)
             SELECT x.kind, x.id, x.version, r.revision, x.status, x.content_hash
               FROM r, unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[]),
                              CAST(:versions AS BIGINT[]), CAST(:statuses AS TEXT[]),
                              CAST(:hashes AS TEXT[]))
                 AS x (kind, id, version, status, content_hash)
             ON CONFLICT (kind, id) DO UPDATE
                SET version = excluded.version,
                    revision = excluded.revision,
                    status = excluded.status,
                    content_hash = excluded.content_hash
             RETURNING 1),
           gone AS (
             DELETE FROM document_references
              WHERE (kind, id) IN (SELECT g.kind, g.id
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
      SELECT r.revision,
             (SELECT count(*) FROM v) AS versions,
             (SELECT count(*) FROM d) AS heads,
             (SELECT count(*) FROM gone) AS references_removed,
             (SELECT count(*) FROM i) AS records
        FROM r
      """;

  /** One attempt at a write transaction: reads until {@link #append}, which takes the revision. */
  private final class JdbcWriteTransaction implements WriteTransaction {
    private final TransactionStatus status;

    JdbcWriteTransaction(TransactionStatus status) {
      this.status = status;
    }

    @Override
    public Map<DocumentKey, Head> heads(Collection<DocumentKey> keys) {
      Map<DocumentKey, Head> heads = new HashMap<>();
      if (keys.isEmpty()) {
        return heads;
      }
      jdbc.sql(
              """
              SELECT d.kind, d.id, d.version, d.revision, d.status, d.content_hash
                FROM unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[])) AS r (kind, id)
                JOIN documents d ON d.kind = r.kind AND d.id = r.id
              """)
          .param("kinds", kindArray(keys))
          .param("ids", idArray(keys))
          .query(
              rs -> {
                heads.put(
                    new DocumentKey(Kind.valueOf(rs.getString("kind")), rs.getString("id")),
                    new Head(
                        rs.getLong("version"),
                        rs.getLong("revision"),
                        Status.valueOf(rs.getString("status")),
                        rs.getString("content_hash")));
              });
      return heads;
    }

    @Override
    public List<Document> versions(Collection<VersionRef> refs) {
      return refs.isEmpty() ? List.of() : selectVersions(refs);
    }

    @Override
    public Map<DocumentKey, List<DocumentKey>> referrers(Collection<DocumentKey> keys) {
      Map<DocumentKey, List<DocumentKey>> referrers = new HashMap<>();
      jdbc.sql(
              """
              SELECT x.ref_kind, x.ref_id, x.kind, x.id
                FROM unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[])) AS r (kind, id)
                JOIN document_references x ON x.ref_kind = r.kind AND x.ref_id = r.id
               ORDER BY x.ref_kind, x.ref_id, x.kind, x.id
              """)
          .param("kinds", kindArray(keys))
          .param("ids", idArray(keys))
          .query(
              rs -> {
                referrers
                    .computeIfAbsent(
                        new DocumentKey(
                            Kind.valueOf(rs.getString("ref_kind")), rs.getString("ref_id")),
                        k -> new ArrayList<>())
                    .add(new DocumentKey(Kind.valueOf(rs.getString("kind")), rs.getString("id")));
              });
      return referrers;
    }

    @Override
    public Map<String, IdempotencyRecord> idempotencyRecords(Collection<String> keys) {
      Map<String, IdempotencyRecord> records = new HashMap<>();
      if (keys.isEmpty()) {
        return records;
      }
      jdbc.sql(
              """
              SELECT i.idempotency_key, i.request_hash, i.revision, i.results, i.created_at
                FROM unnest(CAST(:keys AS TEXT[])) AS k (idempotency_key)
                JOIN idempotency_records i ON i.idempotency_key = k.idempotency_key
              """)
          .param("keys", keys.toArray(String[]::new))
          .query(
              rs -> {
                records.put(
                    rs.getString("idempotency_key"),
                    new IdempotencyRecord(
                        rs.getString("idempotency_key"),
                        rs.getString("request_hash"),
                        rs.getLong("revision"),
                        readResults(rs.getString("results")),
                        rs.getTimestamp("created_at").toInstant()));
              });
      return records;
    }

    @Override
    public long append(List<NewVersion> versions, List<IdempotencyRecord> records) {
      if (versions.isEmpty()) {
        throw new IllegalArgumentException("nothing to append");
      }
      List<DocumentKey> keys = versions.stream().map(v -> v.document().key()).toList();
      MapSqlParameterSource columns =
          new MapSqlParameterSource()
              .addValue("kinds", kindArray(keys))
              .addValue("ids", idArray(keys))
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
                      v -> (long) shardOf(v.document().kind(), v.document().id()),
                      Long[]::new))
              .addValue(
                  "updatedAts",
                  column(versions, v -> Timestamp.from(v.document().updatedAt()), Timestamp[]::new))
              .addValue(
                  "updatedBys", column(versions, v -> v.document().updatedBy(), String[]::new))
              .addValue(
                  "requestIds", column(versions, v -> v.document().requestId(), String[]::new))
              .addValue(
                  "recordKeys", records.stream().map(IdempotencyRecord::key).toArray(String[]::new))
              .addValue(
                  "recordHashes",
                  records.stream().map(IdempotencyRecord::requestHash).toArray(String[]::new))
              .addValue(
                  "recordResults",
                  records.stream().map(r -> writeResults(r.results())).toArray(String[]::new))
              .addValue(
                  "recordCreatedAts",
                  records.stream()
                      .map(r -> Timestamp.from(r.createdAt()))
                      .toArray(Timestamp[]::new));
      long revision =
          jdbc.sql(APPEND)
              .paramSource(columns)
              .query(
                  (rs, n) -> {
                    if (rs.getLong("versions") != versions.size()
                        || rs.getLong("heads") != versions.size()
                        || rs.getLong("records") != records.size()) {
                      throw new IllegalStateException("the append wrote a partial batch");
                    }
                    return rs.getLong("revision");
                  })
              .single();
      insertReferences(versions);
      return revision;
    }

    private void insertReferences(List<NewVersion> versions) {
      List<DocumentKey> referrers = new ArrayList<>();
      List<DocumentKey> referenced = new ArrayList<>();
      for (NewVersion v : versions) {
        for (DocumentKey ref : v.references()) {
          referrers.add(v.document().key());
          referenced.add(ref);
        }
      }
      if (referenced.isEmpty()) {
        return;
      }
      jdbc.sql(
              """
              INSERT INTO document_references (ref_kind, ref_id, kind, id)
              SELECT r.ref_kind, r.ref_id, r.kind, r.id
                FROM unnest(CAST(:refKinds AS TEXT[]), CAST(:refIds AS TEXT[]),
                            CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[]))
                  AS r (ref_kind, ref_id, kind, id)
              """)
          .param("refKinds", kindArray(referenced))
          .param("refIds", idArray(referenced))
          .param("kinds", kindArray(referrers))
          .param("ids", idArray(referrers))
          .update();
    }

    @Override
    public void discard() {
      TransactionRunner.discard(status);
    }
  }

  private List<IdempotencyRecord.Result> readResults(String text) {
    try {
      return json.readValue(text, RESULTS);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored idempotency results are not JSON", e);
    }
  }

  private static final RowMapper<Document> DOCUMENT =
      (rs, n) ->
          new Document(
              Kind.valueOf(rs.getString("kind")),
              rs.getString("id"),
              rs.getLong("version"),
              rs.getLong("revision"),
              Status.valueOf(rs.getString("status")),
              rs.getString("content_hash"),
              rs.getLong("size_bytes"),
              rs.getTimestamp("updated_at").toInstant(),
              rs.getString("updated_by"),
              rs.getString("request_id"),
              rs.getString("payload"));

  private static final RowMapper<ChangeEvent> CHANGE =
      (rs, n) ->
          new ChangeEvent(
              rs.getLong("revision"),
              Kind.valueOf(rs.getString("kind")),
              rs.getString("id"),
              rs.getLong("version"),
              ChangeEvent.Type.of(Status.valueOf(rs.getString("status"))),
              rs.getString("content_hash"));

  private static final RowMapper<DocumentKey> KEY =
      (ResultSet rs, int n) ->
          new DocumentKey(Kind.valueOf(rs.getString("kind")), rs.getString("id"));
}
