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
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
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
 * one or two statements and COMMIT). The row itself is mapped in {@link DocumentRows}; pages of a
 * kind at a revision (listings, manifests) are read by {@link Listings}, states at a revision by
 * {@link StatesAtRevision}.
 */
@Repository
class JdbcCatalogStore implements CatalogStore {

  /** The revision index is spread over this many shards (see V4/V5 migrations). */
  static final int SHARDS = 16;

  static final List<Integer> ALL_SHARDS = IntStream.range(0, SHARDS).boxed().toList();

  private final JdbcClient jdbc;
  private final NamedParameterJdbcOperations statements;
  private final TransactionRunner runner;
  private final ObjectMapper json;
  private final DatabaseProperties database;
  private final VersionCache versionCache;
  final Listings listings;

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
    this.listings = new Listings(jdbc);
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
            listings.page(active, revision, afterId, limit, false).stream()
                .map(
                    d ->
                        new ManifestEntry(
                            d.kind(), d.id(), d.version(), d.contentHash(), d.sizeBytes()))
                .toList());
  }

  @Override
  public List<Document> list(ListFilter filter, long revision, String afterId, int limit) {
    return runner.read(() -> listings.page(filter, revision, afterId, limit, true));
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
