package com.veltrix.config.storage;

import com.veltrix.config.catalog.CatalogStore.ListFilter;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.Status;
import com.veltrix.config.storage.StatesAtRevision.State;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Pages of one kind's documents as they were at a revision, by id, filtered by status and zone:
 * what listings and manifests answer. Served from the heads (the {@code documents} table): a head
 * written at or before the revision is the document's state there; one written after it is resolved
 * ({@link StatesAtRevision}). A page filtered by zone or status reads the matching heads through an
 * index and the documents written since from the feed, not every head of the kind.
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
   * :revision} for {@link #page}, without reading the kind's other heads: for each status asked
   * for, the matching heads written at or before the revision through an index whose prefix is the
   * filter ({@code documents_by_zone} (kind, zone, status, id), V26, or {@code documents_by_status}
   * (kind, status, id), V27), then their versions by primary key; and the documents written since
   * (whatever their zone and status now) at the versions they had then, {@code :changedIds} at
   * {@code :changedVersions} (from {@link #writtenSince}), filtered by those versions' zone and
   * status. Each branch is ordered by id and cut at the page, and so is their union; every row is a
   * state at the revision (nothing to resolve). The heads are cut before their versions are looked
   * up ({@link #VERSION_OF_EACH_HEAD}): joined first, PostgreSQL merge-joined the versions' primary
   * key from the start of the kind (49,511 rows for a page at the end of 50,000). Without it a page
   * read every head of the kind that did not match: 250-554 ms for a zone of 200,000 treasure
   * locations in 50 zones, 67-104 ms for the page after the last ACTIVE of 400,000 heads.
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
          .append(VERSION_OF_EACH_HEAD)
          .append(") UNION ALL ");
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

  /** Reads of a filtered page before it is read by id instead (see {@link #page}). */
  private static final int FILTERED_READS = 3;

  /**
   * The documents of {@code kind} written after {@code revision}, each with the version it had at
   * the revision (0: none), from the feed index (one range of it per shard); nothing if more than
   * {@link #filteredReadsChangedUpTo} versions of any kind were written since. Versions are
   * numbered without gaps and their revisions rise with them, so a document's version at the
   * revision is the one below the first it got after it (retention keeps that one: it is the state
   * at a revision still readable).
   */
  Optional<Map<String, Long>> writtenSince(Kind kind, long revision) { // a test's seam
    int perShard =
        (filteredReadsChangedUpTo + JdbcCatalogStore.SHARDS - 1) / JdbcCatalogStore.SHARDS;
    int[] ofShard = new int[JdbcCatalogStore.SHARDS];
    Map<String, Long> then = new HashMap<>();
    jdbc.sql(JdbcCatalogStore.firstRowsOfEveryShard("shard, kind, id, version"))
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
   * heads, so the page is read again with it; while documents of the kind keep being written
   * between the two, at most {@link #FILTERED_READS} times, and then every head is read by id in
   * one statement, which needs no second look.
   */
  List<Document> page(
      ListFilter filter, long revision, String afterId, int limit, boolean payloads) {
    String columns =
        StatesAtRevision.COLUMNS + (payloads ? "v.payload" : "CAST('' AS TEXT) AS payload");
    boolean filtered = filter.zone().isPresent() || filter.status().isPresent();
    Optional<Map<String, Long>> changed =
        filtered ? writtenSince(filter.kind(), revision) : Optional.empty();
    for (int read = 0; read < FILTERED_READS && changed.isPresent(); read++) {
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
   * {@link #page} with the heads of the statement {@code heads} (its rows {@code columns}): a page
   * whose candidates were filtered out is topped up from the next ids.
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
}
