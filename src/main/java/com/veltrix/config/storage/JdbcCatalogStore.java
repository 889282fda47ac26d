package com.veltrix.config.storage;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.catalog.CatalogStore;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.ChangeEvent;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.IdempotencyRecord;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.ManifestEntry;
import com.veltrix.config.catalog.Status;
import com.veltrix.config.storage.StatesAtRevision.State;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcOperations;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The catalog's store: its reads, here, in the dialect CockroachDB and PostgreSQL share, with
 * explicit column lists and named parameters; its write transactions run {@link
 * JdbcWriteTransaction}, which reads and checks first, then takes the revision in the statement
 * that writes (that row lock queues writers, so revision order is commit order, and it is held for
 * one or two statements and COMMIT). The row itself is mapped in {@link DocumentRows}.
 */
@Repository
class JdbcCatalogStore implements CatalogStore {

  /** The revision index is spread over this many shards (see V4/V5 migrations). */
  static final int SHARDS = 16;

  private static final List<Integer> ALL_SHARDS = IntStream.range(0, SHARDS).boxed().toList();

  /**
   * A page of heads of one kind, by id after {@code :afterId}, each with its current version (a
   * primary-key lookup). A head written at or before {@code :revision} is the document's state at
   * that revision, so it is filtered here by status and zone; a head written after it (changed
   * since) comes back unfiltered, to be resolved by {@link StatesAtRevision#resolve}. No correlated
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
   * A page of one kind's documents that match {@code filter} (a status, a zone or both) at {@code
   * :revision} for {@link #stateAt}, without reading the kind's other heads: for each status asked
   * for, the matching heads written at or before the revision through an index whose prefix is the
   * filter ({@code documents_by_zone} (kind, zone, status, id), V26, or {@code documents_by_status}
   * (kind, status, id), V27), then their versions by primary key; and the documents written since
   * (whatever their zone and status now) at the versions they had then, {@code :changedIds} at
   * {@code :changedVersions} (from {@link #writtenSince}), filtered by those versions' zone and
   * status. Each branch is ordered by id and cut at the page, and so is their union; every row is a
   * state at the revision (nothing to resolve). The heads are cut before they are joined to their
   * versions: joined first, PostgreSQL merge-joined the versions' primary key from the start of the
   * kind (49,511 rows for a page at the end of 50,000). Without it a page read every head of the
   * kind that did not match: 250-554 ms for a zone of 200,000 treasure locations in 50 zones.
   */
  static String filteredStatesAtRevision(String columns, ListFilter filter) {
    StringBuilder sql = new StringBuilder("SELECT * FROM (");
    for (Status status : filter.status().map(List::of).orElse(List.of(Status.values()))) {
      sql.append("(SELECT d.revision AS head_revision, ")
          .append(columns)
          .append(" FROM (SELECT kind, id, version, revision FROM documents WHERE kind = :kind")
          .append(filter.zone().isPresent() ? " AND zone = :zone" : "")
          .append(" AND status = '")
          .append(status.name())
          .append("' AND id > :afterId AND revision <= :revision ORDER BY id LIMIT :limit) AS d")
          .append(" JOIN document_versions v")
          .append(" ON v.kind = d.kind AND v.id = d.id AND v.version = d.version) UNION ALL ");
    }
    return sql.append("(SELECT v.revision AS head_revision, ")
        .append(columns)
        .append(" FROM unnest(CAST(:changedIds AS TEXT[]), CAST(:changedVersions AS BIGINT[]))")
        .append(" AS c (id, version)")
        .append(" JOIN document_versions v")
        .append(" ON v.kind = :kind AND v.id = c.id AND v.version = c.version")
        .append(" WHERE c.id > :afterId")
        .append(filter.zone().isPresent() ? " AND v.zone = :zone" : "")
        .append(filter.status().isPresent() ? " AND v.status = :status" : "")
        .append(" ORDER BY v.id LIMIT :limit)) AS h ORDER BY h.id LIMIT :limit")
        .toString();
  }

  /**
   * The versions written after a pinned revision, all kinds, past which a listing filtered by zone
   * or status reads every head of the kind by id ({@link #HEADS_AT_REVISION}) instead of the
   * matching and the changed ones: finding the changed documents reads a row of the feed index
   * each, and the page looks each changed one of the kind up. Checked per shard of the feed (a
   * sixteenth of it in any shard; the versions spread evenly over them). Package-private and not
   * final so that a test can see both ways answer the same.
   */
  int filteredReadsChangedUpTo = 10_000;

  /**
   * The documents of {@code kind} written after {@code revision}, each with the version it had at
   * the revision (0: none), from the feed index (one range of it per shard); nothing if more than
   * {@link #filteredReadsChangedUpTo} versions of any kind were written since. Versions are
   * numbered without gaps and their revisions rise with them, so a document's version at the
   * revision is the one below the first it got after it (retention keeps that one: it is the state
   * at a revision still readable).
   */
  private Optional<Map<String, Long>> writtenSince(Kind kind, long revision) {
    int perShard = (filteredReadsChangedUpTo + SHARDS - 1) / SHARDS;
    int[] ofShard = new int[SHARDS];
    Map<String, Long> then = new HashMap<>();
    jdbc.sql(firstRowsOfEveryShard("shard, kind, id, version"))
        .param("after", revision)
        .param("through", Long.MAX_VALUE)
        .param("maxRows", perShard + 1)
        .query(
            rs -> {
              ofShard[rs.getInt("shard")]++;
              if (rs.getString("kind").equals(kind.name())) {
                then.merge(rs.getString("id"), rs.getLong("version") - 1, Math::min);
              }
            });
    if (Arrays.stream(ofShard).anyMatch(n -> n > perShard)) {
      return Optional.empty();
    }
    return Optional.of(then);
  }

  /**
   * The state at {@code revision} of the documents that match {@code filter}, by id after {@code
   * afterId}, at most {@code limit}: served from the heads, with one lookup for the heads that
   * changed since (usually none); filtered by zone or status, from the matching heads and the
   * documents written since ({@link #filteredStatesAtRevision}) while not too much was written
   * since. Those are read before and after the page: one written between the two was not among the
   * page's changed documents, nor, its head being newer than the revision, among the matching
   * heads, so the page is read again with it.
   */
  private List<Document> stateAt(
      ListFilter filter, long revision, String afterId, int limit, boolean payloads) {
    String columns =
        StatesAtRevision.COLUMNS + (payloads ? "v.payload" : "CAST('' AS TEXT) AS payload");
    boolean filtered = filter.zone().isPresent() || filter.status().isPresent();
    Optional<Map<String, Long>> changed =
        filtered ? writtenSince(filter.kind(), revision) : Optional.empty();
    while (changed.isPresent()) {
      List<Document> page =
          pageAt(
              filteredStatesAtRevision(columns, filter),
              columns,
              changed.get(),
              filter,
              revision,
              afterId,
              limit);
      Optional<Map<String, Long>> again = writtenSince(filter.kind(), revision);
      if (again.isPresent() && changed.get().keySet().containsAll(again.get().keySet())) {
        return page;
      }
      changed = again;
    }
    return pageAt(
        "SELECT d.revision AS head_revision, " + columns + HEADS_AT_REVISION,
        columns,
        Map.of(),
        filter,
        revision,
        afterId,
        limit);
  }

  /**
   * {@link #stateAt} with the heads of the statement {@code heads} (its rows {@code columns}): a
   * page whose candidates were filtered out is topped up from the next ids.
   */
  private List<Document> pageAt(
      String heads,
      String columns,
      Map<String, Long> changed,
      ListFilter filter,
      long revision,
      String afterId,
      int limit) {
    List<Map.Entry<String, Long>> then = List.copyOf(changed.entrySet());
    String[] changedIds = then.stream().map(Map.Entry::getKey).toArray(String[]::new);
    Long[] changedVersions = then.stream().map(Map.Entry::getValue).toArray(Long[]::new);
    List<Document> page = new ArrayList<>();
    String after = afterId;
    while (page.size() < limit) {
      List<State> candidates =
          jdbc.sql(heads)
              .param("kind", filter.kind().name())
              .param("afterId", after)
              .param("revision", revision)
              .param("status", filter.status().map(Enum::name).orElse(null))
              .param("zone", filter.zone().orElse(null))
              .param("limit", limit)
              .param("changedIds", changedIds)
              .param("changedVersions", changedVersions)
              .query((rs, n) -> StatesAtRevision.state(rs, rs.getLong("head_revision")))
              .list();
      if (candidates.isEmpty()) {
        break;
      }
      Map<DocumentKey, State> resolved =
          StatesAtRevision.resolve(jdbc, candidates, revision, columns);
      for (State head : candidates) {
        State at = head.headRevision() <= revision ? head : resolved.get(head.document().key());
        if (at != null && matches(at, filter)) {
          page.add(at.document());
          if (page.size() == limit) {
            break;
          }
        }
      }
      if (candidates.size() < limit) {
        break; // no more heads
      }
      after = candidates.get(candidates.size() - 1).document().id();
    }
    return page;
  }

  private static boolean matches(State state, ListFilter filter) {
    return filter.status().map(s -> s == state.document().status()).orElse(true)
        && filter.zone().map(z -> state.zone().map(z::equals).orElse(false)).orElse(true);
  }

  private final JdbcClient jdbc;
  private final NamedParameterJdbcOperations statements;
  private final TransactionRunner runner;
  private final ObjectMapper json;
  private final DatabaseProperties database;
  private final VersionCache versionCache;

  JdbcCatalogStore(
      JdbcClient jdbc,
      NamedParameterJdbcOperations statements,
      TransactionRunner runner,
      ObjectMapper json,
      DatabaseProperties database,
      VersionCache versionCache) {
    this.jdbc = jdbc;
    this.statements = statements;
    this.runner = runner;
    this.json = json;
    this.database = database;
    this.versionCache = versionCache;
  }

  static int shardOf(Kind kind, String id) {
    return Math.floorMod((kind.name() + "/" + id).hashCode(), SHARDS);
  }

  /**
   * Each attempt begins and ends as {@link JdbcWriteTransaction#begin} says: its reads before the
   * transaction, the transaction in the append's round trip.
   */
  @Override
  public <T> T write(Function<WriteTransaction, T> work) {
    long sessionLockTimeout = database.lockTimeout().toMillis();
    EarlierAttempts earlier = new EarlierAttempts(); // the runner's attempts run one at a time
    return runner.inTransaction(
        status -> {
          JdbcWriteTransaction tx =
              JdbcWriteTransaction.begin(
                  jdbc, statements, json, status, sessionLockTimeout, earlier.begin());
          try {
            return work.apply(tx);
          } catch (RuntimeException e) {
            earlier.failed(e);
            throw e;
          } finally {
            tx.end();
          }
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

  /** Its newest version: a point query that reads one row (a backward scan of the key). */
  @Override
  public Optional<Document> latest(DocumentKey key) {
    return history(key, Long.MAX_VALUE, 1).stream().findFirst();
  }

  @Override
  public Optional<Document> version(DocumentKey key, long version) {
    Optional<Document> cached = versionCache.get(new VersionRef(key.kind(), key.id(), version));
    if (cached.isPresent()) {
      return cached;
    }
    Optional<Document> found = runner.read(() -> selectVersion(key, version));
    found.ifPresent(versionCache::put);
    return found;
  }

  private Optional<Document> selectVersion(DocumentKey key, long version) {
    return jdbc.sql(
            "SELECT "
                + DocumentRows.VERSION_COLUMNS
                + " FROM document_versions WHERE kind = :kind AND id = :id AND version = :version")
        .param("kind", key.kind().name())
        .param("id", key.id())
        .param("version", version)
        .query(DocumentRows.DOCUMENT)
        .optional();
  }

  /**
   * From the document's head, and for a head written since, the versions below it by primary key
   * ({@link StatesAtRevision}): a scan down from the head would read every version written since.
   */
  @Override
  public Optional<Document> atRevision(DocumentKey key, long revision) {
    return runner.read(
        () -> StatesAtRevision.of(jdbc, List.of(key), revision).stream().findFirst());
  }

  @Override
  public List<Document> history(DocumentKey key, long beforeVersion, int limit) {
    return runner.read(
        () ->
            jdbc.sql(
                    "SELECT "
                        + DocumentRows.VERSION_COLUMNS
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
                .query(DocumentRows.DOCUMENT)
                .list());
  }

  /**
   * The refs the {@link VersionCache} holds come from memory; the rest in one lookup, which joins
   * an {@code unnest} of parameter arrays instead of a row-value {@code IN} list: PostgreSQL spent
   * 250 ms planning a 1,000-tuple {@code IN} (0.6 ms this way).
   */
  @Override
  public List<Document> versions(Collection<VersionRef> refs) {
    Map<VersionRef, Document> cached = versionCache.getAll(refs);
    List<VersionRef> missing = refs.stream().filter(r -> !cached.containsKey(r)).toList();
    List<Document> found = new ArrayList<>(cached.values());
    if (!missing.isEmpty()) {
      List<Document> loaded = runner.read(() -> DocumentRows.selectVersions(jdbc, missing));
      loaded.forEach(versionCache::put);
      found.addAll(loaded);
    }
    return found;
  }

  @Override
  public List<Document> latestOf(Collection<DocumentKey> keys) {
    if (keys.isEmpty()) {
      return List.of();
    }
    if (keys.size() == 1) {
      // A batch of one is a point read. PostgreSQL plans the join below afresh on every execution
      // (a generic plan cannot know the arrays' length: 0.42 ms of planning against 0.07 ms of
      // execution, measured with EXPLAIN ANALYZE at 100,000 documents); the point query keeps its
      // generic plan (0.007 ms). It was 0.35 ms of PostgreSQL CPU per gRPC point read, 0.15 by
      // REST.
      return latest(keys.iterator().next()).map(List::of).orElse(List.of());
    }
    return runner.read(
        () ->
            jdbc.sql(
                    "SELECT v.kind, v.id, v.version, v.revision, v.status, v.content_hash,"
                        + " v.size_bytes, v.updated_at, v.updated_by, v.request_id, v.payload"
                        + StatesAtRevision.HEADS_OF_KEYS)
                .param("kinds", DocumentRows.kindArray(keys))
                .param("ids", DocumentRows.idArray(keys))
                .query(DocumentRows.DOCUMENT)
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
      "SELECT e.*, t.committed_at FROM ("
          + firstRowsOfEveryShard("revision, kind, id, version, status, content_hash")
          + " ORDER BY revision, kind, id LIMIT :maxRows) AS e"
          + " LEFT JOIN revision_times t ON t.revision = e.revision"
          + " ORDER BY e.revision, e.kind, e.id";

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

  /**
   * The latest version at or before {@code revision} of each of {@code keys} that had one: the
   * heads, and for those written after {@code revision} the versions below them ({@link
   * StatesAtRevision}).
   */
  @Override
  public List<Document> atRevision(Collection<DocumentKey> keys, long revision) {
    return runner.read(() -> StatesAtRevision.of(jdbc, keys, revision));
  }

  @Override
  public Map<DocumentKey, List<DocumentKey>> referrers(Collection<DocumentKey> keys) {
    return runner.read(() -> DocumentRows.referrers(jdbc, keys));
  }

  /**
   * One descending step of {@code revision_times_by_time}; the future test uses the database's
   * clock, the one commit times come from, so pods with skewed clocks agree.
   */
  @Override
  public TimePoint timePoint(Instant at) {
    return runner.read(
        () ->
            jdbc.sql(
                    """
                    SELECT c.revision AS current, h.revision AS oldest,
                           c.committed_at < CAST(:at AS TIMESTAMPTZ)
                             AND clock_timestamp() < CAST(:at AS TIMESTAMPTZ) AS future,
                           (SELECT t.revision FROM revision_times t
                             WHERE t.committed_at <= CAST(:at AS TIMESTAMPTZ)
                             ORDER BY t.committed_at DESC, t.revision DESC LIMIT 1) AS at_revision
                      FROM revision_counter c CROSS JOIN history_horizon h
                     WHERE c.id = 1 AND h.id = 1
                    """)
                .param("at", Timestamp.from(at))
                .query(
                    (rs, n) ->
                        new TimePoint(
                            rs.getLong("at_revision"), // NULL (before every revision): 0
                            rs.getLong("current"),
                            rs.getLong("oldest"),
                            rs.getBoolean("future")))
                .single());
  }

  @Override
  public List<ChangeEvent> changes(long afterRevision, long throughRevision, int maxRows) {
    return runner.read(
        () ->
            jdbc.sql(CHANGES_BY_SHARD)
                .param("after", afterRevision)
                .param("through", throughRevision)
                .param("maxRows", maxRows)
                .query(DocumentRows.CHANGE)
                .list());
  }

  @Override
  public List<ChangeEvent> changesAt(long revision, Set<Kind> kinds) {
    return runner.read(
        () ->
            jdbc.sql(
                    """
                    SELECT v.revision, v.kind, v.id, v.version, v.status, v.content_hash,
                           t.committed_at
                      FROM document_versions v
                      LEFT JOIN revision_times t ON t.revision = v.revision
                     WHERE v.shard IN (:shards) AND v.revision = :revision
                       AND v.kind IN (:kinds)
                     ORDER BY v.kind, v.id
                    """)
                .param("shards", ALL_SHARDS)
                .param("revision", revision)
                .param("kinds", kindNames(kinds))
                .query(DocumentRows.CHANGE)
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
        .addValue("results", DocumentRows.writeResults(json, record.results()))
        .addValue("createdAt", Timestamp.from(record.createdAt()));
  }
}
