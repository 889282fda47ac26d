package com.veltrix.config.storage;

import com.veltrix.config.catalog.CatalogStore.ListFilter;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.Status;
import com.veltrix.config.storage.StatesAtRevision.State;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Pages of one kind's documents as they were at a revision, by id, filtered by status and zone:
 * what listings and manifests answer. Served from the heads (the {@code documents} table): a head
 * written at or before the revision is the document's state there; one written after it is resolved
 * ({@link StatesAtRevision}). A page filtered by zone or status reads, in one statement, the
 * matching heads through an index and the documents written since from the feed, not every head of
 * the kind.
 */
class Listings {

  private final JdbcClient jdbc;

  Listings(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  /**
   * Each head of the subquery {@code d} joined to its current version by one primary-key lookup.
   * The {@code LIMIT 1} (a key matches one row) keeps PostgreSQL from flattening the subquery into
   * a plain join, which it planned as a merge join reading every version of each document in the
   * page (a document of 200,000 versions made its page take 125 ms instead of 1.2 ms; the versions'
   * primary key orders them by id and version, the heads by id only) or, for a kind of small
   * documents with one version each, a hash join over every version of the table (45 ms against 7.6
   * ms a page of 1,000). CockroachDB decorrelates it into a lookup join on the same key (its rule
   * for {@code LIMIT 1} subqueries; cockroachdb/cockroach#120866 is about lookups that match many
   * rows, not one): docs/decisions.md.
   */
  static final String VERSION_OF_EACH_HEAD =
      " JOIN LATERAL (SELECT * FROM document_versions v WHERE v.kind = d.kind AND v.id = d.id"
          + " AND v.version = d.version LIMIT 1) AS v ON true";

  /**
   * A page of heads of one kind, by id after {@code :afterId}, each with its current version. A
   * head written at or before {@code :revision} is the document's state at that revision, so it is
   * filtered here by status and zone; a head written after it (changed since) comes back
   * unfiltered, to be resolved by {@link StatesAtRevision#resolve}. The heads are cut at the page
   * before their versions are looked up ({@link #VERSION_OF_EACH_HEAD}). No per-document {@code
   * LATERAL ... ORDER BY version DESC LIMIT 1}: that one CockroachDB's optimizer decorrelates into
   * a scan of every version (cockroachdb/cockroach #120866, #165983).
   */
  static final String HEADS_AT_REVISION =
      """
        FROM (SELECT kind, id, version, revision FROM documents
               WHERE kind = :kind
                 AND id > :afterId
                 AND (revision > :revision
                      OR ((CAST(:status AS TEXT) IS NULL OR status = :status)
                          AND (CAST(:zone AS TEXT) IS NULL OR zone = :zone)))
               ORDER BY id
               LIMIT :limit) AS d
      """
          + VERSION_OF_EACH_HEAD
          + " ORDER BY d.id";

  /**
   * A page of one kind's documents that match {@code filter} (a status, a zone or both) at {@code
   * :revision} for {@link #page}, in one statement and so from one snapshot, without reading the
   * kind's other heads. Its first column, {@code overflow}, says whether more was written since the
   * revision than the page may look through ({@code :perShard} rows of a shard of the feed); then
   * the page is not read (PostgreSQL skips its branches: the condition holds no column, so it gates
   * them once) and {@link #page} reads the heads by id instead. Each row is a state at the revision
   * (nothing to resolve); a page of none is one row of {@code overflow} alone.
   *
   * <ul>
   *   <li>{@code written}: the versions written after the revision, all kinds, the first {@code
   *       :maxRows} of each shard of the feed index (its {@code (shard, revision)} prefix);
   *   <li>for each status asked for, the matching heads written at or before the revision through
   *       an index whose prefix is the filter ({@code documents_by_zone} (kind, zone, status, id),
   *       V26, or {@code documents_by_status} (kind, status, id), V27), then their versions by
   *       primary key; a head written after it is among {@code written}: in one snapshot the two
   *       cannot miss a document written between them, as two statements could;
   *   <li>the documents of the kind that matched then among {@code written}, each from its first
   *       version since: that version records the revision, status and zone of the one it replaced
   *       ({@code prior_*}, V28), so it is the first since when its prior revision is at or before
   *       the pinned one, and its prior status and zone are the document's then. Cut at the page,
   *       then each looked up at the version below (versions are numbered without gaps, and
   *       retention keeps that one: it is the state at a revision still readable). So a page looks
   *       up its own documents, not every document of the kind written since whose id comes before
   *       the page's (for a zone's first page pinned behind 10,000 writes, 5,107 lookups);
   *   <li>the documents among {@code written} whose versions do not say what they replaced (written
   *       before V28, or by a pod of an earlier release), each looked up at the version below and
   *       kept if that one is at or before the revision and matches the filter.
   * </ul>
   *
   * Each branch is ordered by id and cut at the page, and so is their union. The heads are cut
   * before their versions are looked up ({@link #VERSION_OF_EACH_HEAD}): joined first, PostgreSQL
   * merge-joined the versions' primary key from the start of the kind (49,511 rows for a page at
   * the end of 50,000). Without the indexes a page read every head of the kind that did not match:
   * 250-554 ms for a zone of 200,000 treasure locations in 50 zones, 67-104 ms for the page after
   * the last ACTIVE of 400,000 heads. CockroachDB materializes {@code written} (used three times),
   * as PostgreSQL does: docs/decisions.md.
   */
  static String filteredStatesAtRevision(String columns, ListFilter filter) {
    StringBuilder sql =
        new StringBuilder("WITH written AS (")
            .append(
                JdbcCatalogStore.firstRowsOfEveryShard(
                    "shard, kind, id, version, prior_revision, prior_status, prior_zone"))
            .append("), o AS (SELECT COALESCE(max(n), 0) > :perShard AS overflow")
            .append(" FROM (SELECT count(*) AS n FROM written GROUP BY shard) AS s)")
            .append(" SELECT o.overflow, h.* FROM o LEFT JOIN (SELECT * FROM (");
    for (Status status : filter.status().map(List::of).orElse(List.of(Status.values()))) {
      sql.append("(SELECT ")
          .append(columns)
          .append(" FROM (SELECT kind, id, version FROM documents WHERE kind = :kind")
          .append(filter.zone().isPresent() ? " AND zone = :zone" : "")
          .append(" AND status = '")
          .append(status.name())
          .append("' AND id > :afterId AND revision <= :revision ORDER BY id LIMIT :limit) AS d")
          .append(VERSION_OF_EACH_HEAD)
          .append(") UNION ALL ");
    }
    return sql.append("(SELECT ")
        .append(columns)
        .append(" FROM (SELECT kind, id, version - 1 AS version FROM written")
        .append(" WHERE kind = :kind AND id > :afterId AND prior_revision <= :revision")
        .append(" AND (CAST(:status AS TEXT) IS NULL OR prior_status = :status)")
        .append(" AND (CAST(:zone AS TEXT) IS NULL OR prior_zone = :zone)")
        .append(" ORDER BY id LIMIT :limit) AS d")
        .append(VERSION_OF_EACH_HEAD)
        .append(") UNION ALL (SELECT ")
        .append(columns)
        .append(" FROM (SELECT kind, id, version - 1 AS version FROM written")
        .append(" WHERE kind = :kind AND id > :afterId AND version > 1")
        .append(" AND prior_status IS NULL) AS d")
        .append(VERSION_OF_EACH_HEAD)
        .append(" WHERE v.revision <= :revision")
        .append(" AND (CAST(:zone AS TEXT) IS NULL OR v.zone = :zone)")
        .append(" AND (CAST(:status AS TEXT) IS NULL OR v.status = :status)")
        .append(" ORDER BY d.id LIMIT :limit)) AS p WHERE NOT (SELECT overflow FROM o)")
        .append(" ORDER BY p.id LIMIT :limit) AS h ON true")
        .append(" ORDER BY h.id")
        .toString();
  }

  /**
   * The versions written after a pinned revision, all kinds, past which a listing filtered by zone
   * or status reads every head of the kind by id ({@link #HEADS_AT_REVISION}) instead of the
   * matching and the changed ones: the statement reads a row of the feed index for each version
   * written since (about 1 ms per 1,000 on PostgreSQL here: a page of a zone 47-55 ms at 40,000,
   * 73-77 ms at 80,000; docs/performance.md, "Pinned behind a large ingest"), where by id a large
   * kind's page ran out of the 250 ms budget from about 40,000. Checked per shard of the feed (a
   * sixteenth of it in any shard; the versions spread evenly over them). Package-private and not
   * final so that a test can see both ways answer the same.
   */
  int filteredReadsChangedUpTo = 40_000;

  /** {@link #filteredReadsChangedUpTo}'s share of one shard of the feed. */
  int perShard() {
    return (filteredReadsChangedUpTo + JdbcCatalogStore.SHARDS - 1) / JdbcCatalogStore.SHARDS;
  }

  /**
   * The state at {@code revision} of the documents that match {@code filter}, by id after {@code
   * afterId}, at most {@code limit}: served from the heads, with one lookup for the heads that
   * changed since (usually none); filtered by zone or status, from the matching heads and the
   * documents written since in one statement ({@link #filteredStatesAtRevision}) while not too much
   * was written since, and otherwise from every head by id.
   */
  List<Document> page(
      ListFilter filter, long revision, String afterId, int limit, boolean payloads) {
    String columns =
        StatesAtRevision.COLUMNS + (payloads ? "v.payload" : "CAST('' AS TEXT) AS payload");
    if (filter.zone().isPresent() || filter.status().isPresent()) {
      Optional<List<Document>> page = filteredPage(columns, filter, revision, afterId, limit);
      if (page.isPresent()) {
        return page.get();
      }
    }
    return headsById(columns, filter, revision, afterId, limit);
  }

  /**
   * {@link #filteredStatesAtRevision}'s page; nothing if too much was written since, or if a row
   * does not match the filter: a head's zone that was not its version's (a head written by a pod of
   * a release before V24), or a prior zone taken from such a head. The page by id checks each
   * version's zone and tops the page up past those.
   */
  private Optional<List<Document>> filteredPage(
      String columns, ListFilter filter, long revision, String afterId, int limit) {
    boolean[] complete = {true};
    List<Document> page = new ArrayList<>();
    jdbc.sql(filteredStatesAtRevision(columns, filter))
        .params(filteredParams(filter, revision, afterId, limit, perShard()))
        .query(
            rs -> {
              complete[0] &= !rs.getBoolean("overflow");
              if (rs.getString("id") != null) {
                State state = StatesAtRevision.state(rs, revision); // a state at the revision
                complete[0] &= matches(state, filter);
                page.add(state.document());
              }
            });
    return complete[0] ? Optional.of(page) : Optional.empty();
  }

  /** The parameters of a page statement by id ({@link #HEADS_AT_REVISION}). */
  static Map<String, Object> pageParams(
      ListFilter filter, long revision, String afterId, int limit) {
    Map<String, Object> params = new HashMap<>();
    params.put("kind", filter.kind().name());
    params.put("afterId", afterId);
    params.put("revision", revision);
    params.put("status", filter.status().map(Enum::name).orElse(null));
    params.put("zone", filter.zone().orElse(null));
    params.put("limit", limit);
    return params;
  }

  /** The parameters of {@link #filteredStatesAtRevision}: a page's, and the feed's share. */
  static Map<String, Object> filteredParams(
      ListFilter filter, long revision, String afterId, int limit, int perShard) {
    Map<String, Object> params = pageParams(filter, revision, afterId, limit);
    params.put("perShard", perShard);
    params.put("after", revision); // the feed's rows after the revision
    params.put("through", Long.MAX_VALUE);
    params.put("maxRows", perShard + 1);
    return params;
  }

  /**
   * {@link #page} from every head of the kind by id ({@link #HEADS_AT_REVISION}, its rows {@code
   * columns}): a head written after the revision is resolved to its state then, and a page whose
   * candidates were filtered out is topped up from the next ids.
   */
  private List<Document> headsById(
      String columns, ListFilter filter, long revision, String afterId, int limit) {
    String heads = "SELECT d.revision AS head_revision, " + columns + HEADS_AT_REVISION;
    List<Document> page = new ArrayList<>();
    String after = afterId;
    while (page.size() < limit) {
      List<State> candidates =
          jdbc.sql(heads)
              .params(pageParams(filter, revision, after, limit))
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
}
