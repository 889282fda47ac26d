package com.veltrix.config.storage;

import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.Kind;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Documents as they were at a revision, found from their heads: a head written at or before the
 * revision is the document's state there; for a head written after it, the newest version at or
 * before the revision is looked up by primary key ({@link #resolve}), never by reading the
 * document's history, which for a hot document is millions of rows within the retention period.
 * What listings, manifests and reads at a revision start from, and what a retry reports for the
 * documents a lost commit left unchanged.
 */
final class StatesAtRevision {

  private StatesAtRevision() {}

  /** The columns of a {@link State} but the payload, which follows them (or an empty one). */
  static final String COLUMNS =
      "v.kind, v.id, v.version, v.revision, v.status, v.content_hash, v.size_bytes, v.zone,"
          + " v.updated_at, v.updated_by, v.request_id, ";

  /** A document's state at a revision, and the revision its head was written at. */
  record State(Document document, Optional<String> zone, long headRevision) {}

  static State state(ResultSet rs, long headRevision) throws SQLException {
    return new State(
        DocumentRows.DOCUMENT.mapRow(rs, 0),
        Optional.ofNullable(rs.getString("zone")),
        headRevision);
  }

  /**
   * The heads of the given documents, each with its current version (lookups by primary key): what
   * a read of the current documents answers, and where a read at a revision starts, as a listing
   * does (one statement when none changed since).
   */
  static final String HEADS_OF_KEYS =
      """
        FROM unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[])) AS r (kind, id)
        JOIN documents d ON d.kind = r.kind AND d.id = r.id
        JOIN document_versions v ON v.kind = d.kind AND v.id = d.id AND v.version = d.version
      """;

  /** The newest version at or before {@code revision} of each of {@code keys} that had one. */
  static List<Document> of(JdbcClient jdbc, Collection<DocumentKey> keys, long revision) {
    if (keys.isEmpty()) {
      return List.of();
    }
    String columns = COLUMNS + "v.payload";
    List<State> heads =
        jdbc.sql("SELECT d.revision AS head_revision, " + columns + HEADS_OF_KEYS)
            .param("kinds", DocumentRows.kindArray(keys))
            .param("ids", DocumentRows.idArray(keys))
            .query((rs, n) -> state(rs, rs.getLong("head_revision")))
            .list();
    Map<DocumentKey, State> resolved = resolve(jdbc, heads, revision, columns);
    List<Document> at = new ArrayList<>();
    for (State head : heads) {
      State then = head.headRevision() <= revision ? head : resolved.get(head.document().key());
      if (then != null) {
        at.add(then.document());
      }
    }
    return at;
  }

  /** The versions just below a changed head that {@link #resolve} reads first, whole. */
  private static final int NEAR_HEAD = 8;

  /**
   * About how many versions one statement of {@link #resolve} looks up: a thousand lookups by
   * primary key took 10-30 ms on PostgreSQL 14 here, 6,400 took 62-228 ms.
   */
  private static final int LOOKUPS_PER_STATEMENT = 1_000;

  private static final int MIN_PROBES = 8;

  private static final int MAX_PROBES = 64;

  /**
   * The state at {@code revision} of each head that changed since. Versions are numbered without
   * gaps and their revisions rise with them, so each document's answer is the newest version at or
   * before the revision, somewhere below its head. The {@link #NEAR_HEAD} versions just below each
   * head are read whole first ({@link DocumentRows#candidatesAtRevision}): a listing pinned a few
   * writes back needs nothing more. Below them, rounds of probes spread evenly over what is left (8
   * to 64 a document, about {@link #LOOKUPS_PER_STATEMENT} a round, numbers only: {@link
   * DocumentRows#revisionsOf}) narrow each document's interval 9 to 65 times, until at most twice
   * the probes are left, which are read whole: for 100 documents pinned 2,000 versions back, 3
   * statements after the first, 2.6 million versions back 6 (one document alone: 4); each one
   * lookups by primary key, never a document's history. A version that is missing was pruned, and
   * retention prunes only versions older than the state at its horizon, so it is at or before any
   * revision that can still be read. A document with no version at or before the revision did not
   * exist then.
   */
  static Map<DocumentKey, State> resolve(
      JdbcClient jdbc, List<State> heads, long revision, String columns) {
    // each document still open: its answer lies in [below, above), where below is a version known
    // to be at or before the revision (0: none known) and above the oldest known to be after it
    Map<DocumentKey, long[]> open = new LinkedHashMap<>();
    heads.stream()
        .filter(h -> h.headRevision() > revision)
        .forEach(h -> open.put(h.document().key(), new long[] {0, h.document().version()}));
    Map<DocumentKey, State> resolved = new HashMap<>();
    if (open.isEmpty()) {
      return resolved;
    }
    Map<DocumentKey, long[]> near = new LinkedHashMap<>();
    open.forEach((key, b) -> near.put(key, new long[] {Math.max(0, b[1] - NEAR_HEAD), b[1]}));
    readWhole(jdbc, near, revision, columns, resolved);
    open.keySet().removeAll(resolved.keySet());
    open.replaceAll((key, b) -> new long[] {0, Math.max(1, near.get(key)[0])});
    open.values().removeIf(b -> b[1] <= 1); // every version read: it did not exist then
    while (!open.isEmpty()) {
      int probes = Math.max(MIN_PROBES, Math.min(MAX_PROBES, LOOKUPS_PER_STATEMENT / open.size()));
      Map<DocumentKey, long[]> few = new LinkedHashMap<>();
      open.forEach(
          (key, b) -> {
            if (b[1] - Math.max(1, b[0]) <= 2L * probes) {
              few.put(key, b);
            }
          });
      if (!few.isEmpty()) {
        readWhole(jdbc, few, revision, columns, resolved);
        open.keySet().removeAll(few.keySet());
      }
      if (!open.isEmpty()) {
        narrow(jdbc, open, revision, probes);
      }
    }
    return resolved;
  }

  /**
   * Adds to {@code resolved} the state of each of {@code intervals} that has one among its versions
   * in {@code [max(1, below), above)}, read whole.
   */
  private static void readWhole(
      JdbcClient jdbc,
      Map<DocumentKey, long[]> intervals,
      long revision,
      String columns,
      Map<DocumentKey, State> resolved) {
    List<VersionRef> candidates = new ArrayList<>();
    intervals.forEach(
        (key, b) -> {
          for (long v = b[1] - 1; v >= Math.max(1, b[0]); v--) {
            candidates.add(new VersionRef(key.kind(), key.id(), v));
          }
        });
    if (candidates.isEmpty()) { // none for a document whose first version is its head
      return;
    }
    DocumentRows.candidatesAtRevision(columns, candidates, revision)
        .query(jdbc, (rs, n) -> state(rs, rs.getLong("revision")))
        .forEach(state -> resolved.put(state.document().key(), state));
  }

  /**
   * One round of numbers only: {@code probes} versions spread evenly inside each interval of {@code
   * open}, and each interval narrowed to the two probes around the revision.
   */
  private static void narrow(
      JdbcClient jdbc, Map<DocumentKey, long[]> open, long revision, int probes) {
    List<VersionRef> points = new ArrayList<>();
    open.forEach(
        (key, bounds) -> {
          for (int i = 1; i <= probes; i++) {
            points.add(
                new VersionRef(
                    key.kind(), key.id(), bounds[0] + i * (bounds[1] - bounds[0]) / (probes + 1)));
          }
        });
    Map<VersionRef, Long> revisions = new HashMap<>();
    DocumentRows.revisionsOf(points)
        .query(
            jdbc,
            (rs, n) ->
                Map.entry(
                    new VersionRef(
                        Kind.valueOf(rs.getString("kind")),
                        rs.getString("id"),
                        rs.getLong("version")),
                    rs.getLong("revision")))
        .forEach(e -> revisions.put(e.getKey(), e.getValue()));
    for (VersionRef point : points) { // in ascending order within each document
      long[] bounds = open.get(new DocumentKey(point.kind(), point.id()));
      if (point.version() <= bounds[0] || point.version() >= bounds[1]) {
        continue; // past the first probe after the revision
      }
      Long at = revisions.get(point);
      if (at == null || at <= revision) { // missing: pruned, so older than the state wanted
        bounds[0] = point.version();
      } else {
        bounds[1] = point.version();
      }
    }
  }
}
