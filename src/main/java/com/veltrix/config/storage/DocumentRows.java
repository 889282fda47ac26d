package com.veltrix.config.storage;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.ChangeEvent;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.IdempotencyRecord;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.Status;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The one place for the document row: the version columns, the row mappers, the array parameters
 * batch statements join with {@code unnest}, and the idempotency results' JSON.
 */
final class DocumentRows {

  private DocumentRows() {}

  static final String VERSION_COLUMNS =
      "kind, id, version, revision, status, content_hash, size_bytes, updated_at, updated_by,"
          + " request_id, payload";

  private static final TypeReference<List<StoredResult>> RESULTS = new TypeReference<>() {};

  static final RowMapper<Document> DOCUMENT =
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

  static final RowMapper<ChangeEvent> CHANGE =
      (rs, n) ->
          new ChangeEvent(
              rs.getLong("revision"),
              Kind.valueOf(rs.getString("kind")),
              rs.getString("id"),
              rs.getLong("version"),
              ChangeEvent.Type.of(Status.valueOf(rs.getString("status"))),
              rs.getString("content_hash"),
              instantOrNull(rs.getTimestamp("committed_at")));

  static Instant instantOrNull(Timestamp at) {
    return at == null ? null : at.toInstant();
  }

  static String[] kindArray(Collection<DocumentKey> keys) {
    return keys.stream().map(k -> k.kind().name()).toArray(String[]::new);
  }

  static String[] idArray(Collection<DocumentKey> keys) {
    return keys.stream().map(DocumentKey::id).toArray(String[]::new);
  }

  /**
   * The given versions' rows, each matched by {@code v.version} compared with {@code r.version}.
   */
  private static final String VERSIONS_FROM_REFS =
      """
      SELECT v.kind, v.id, v.version, v.revision, v.status, v.content_hash,
             v.size_bytes, v.updated_at, v.updated_by, v.request_id, v.payload
        FROM unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[]),
                    CAST(:versions AS BIGINT[])) AS r (kind, id, version)
        JOIN document_versions v
          ON v.kind = r.kind AND v.id = r.id AND v.version\s""";

  /**
   * A branch of {@link #lookups}: the versions of {@code :kinds<n>}, {@code :ids<n>} and {@code
   * :versions<n>} that exist, a lookup by primary key each as {@link #VERSIONS}, then {@code where}
   * (a filter on the rows found).
   */
  private static String lookupBranch(String columns, int n, String where) {
    return "SELECT "
        + columns
        + " FROM unnest(CAST(:kinds"
        + n
        + " AS TEXT[]), CAST(:ids"
        + n
        + " AS TEXT[]), CAST(:versions"
        + n
        + " AS BIGINT[])) AS r (kind, id, version)"
        + " JOIN document_versions v"
        + " ON v.kind = r.kind AND v.id = r.id AND v.version = r.version"
        + where;
  }

  /**
   * At most this many candidates a branch. PostgreSQL 14 planned 800 candidates over 195,000 rows
   * as lookups by primary key and 6,400 as a hash join over the whole table (160 ms): its cost
   * model prices a sequential scan of a small table below thousands of index probes. Each branch of
   * a {@code UNION ALL} is planned on its own.
   */
  static final int CANDIDATES_PER_BRANCH = 1_000;

  /** A statement and its named parameters. */
  record Statement(String sql, Map<String, Object> params) {
    <T> List<T> query(JdbcClient jdbc, RowMapper<T> rows) {
      return jdbc.sql(sql).params(params).query(rows).list();
    }
  }

  /**
   * The newest of the given candidate versions stored at or before {@code revision}, for each
   * document, with {@code columns} (prefixed {@code v.}, the key's among them): a lookup by primary
   * key per candidate, so it reads as many rows as there are candidates whatever the documents'
   * histories, in one round trip.
   */
  static Statement candidatesAtRevision(
      String columns, List<VersionRef> candidates, long revision) {
    Statement lookups = lookups(columns, candidates, " WHERE v.revision <= :revision");
    lookups.params().put("revision", revision);
    return new Statement(
        "SELECT DISTINCT ON (v.kind, v.id) v.* FROM ("
            + lookups.sql()
            + ") AS v ORDER BY v.kind, v.id, v.version DESC",
        lookups.params());
  }

  /** The key and revision of each of the given versions that exists (numbers only). */
  static Statement revisionsOf(List<VersionRef> versions) {
    return lookups("v.kind, v.id, v.version, v.revision", versions, "");
  }

  /**
   * The rows of the given versions that exist and pass {@code where}: one branch of a {@code UNION
   * ALL} per {@link #CANDIDATES_PER_BRANCH} versions, each a lookup by primary key per version.
   * CockroachDB plans the zipped {@code unnest} as a few rows feeding a lookup join
   * (cockroachdb/cockroach#30667 set its estimate to 10 rows for that reason).
   */
  private static Statement lookups(String columns, List<VersionRef> versions, String where) {
    StringBuilder sql = new StringBuilder();
    Map<String, Object> params = new HashMap<>();
    for (int n = 0; n * CANDIDATES_PER_BRANCH < versions.size(); n++) {
      List<VersionRef> branch =
          versions.subList(
              n * CANDIDATES_PER_BRANCH,
              Math.min(versions.size(), (n + 1) * CANDIDATES_PER_BRANCH));
      sql.append(n == 0 ? "" : " UNION ALL ").append(lookupBranch(columns, n, where));
      params.put("kinds" + n, branch.stream().map(c -> c.kind().name()).toArray(String[]::new));
      params.put("ids" + n, branch.stream().map(VersionRef::id).toArray(String[]::new));
      params.put("versions" + n, branch.stream().map(VersionRef::version).toArray(Long[]::new));
    }
    return new Statement(sql.toString(), params);
  }

  /** Each of the given versions that exists: a lookup by primary key per version. */
  static final String VERSIONS = VERSIONS_FROM_REFS + "= r.version";

  /**
   * Every version of each given document from the given version on: a range of the primary key per
   * document. CockroachDB plans it as a lookup join whose spans carry the inequality (an index
   * column against an input column of the same type, since v22.2: cockroachdb/cockroach#85597).
   */
  static final String VERSIONS_SINCE = VERSIONS_FROM_REFS + ">= r.version";

  /**
   * The versions, among the given documents' versions from a given number on, that were stored at a
   * given revision: numbers only, no payloads. {@code v.version} is compared with {@code r.version}
   * by what follows: {@code =} is a primary-key lookup, {@code >=} a range of it per document (on
   * CockroachDB the spans of a lookup join, cockroachdb/cockroach#85597, v22.2; the revision,
   * outside the index, a filter on the rows found).
   */
  private static final String VERSIONS_STORED_AT =
      """
      SELECT v.kind, v.id, v.revision, v.version
        FROM unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[]), CAST(:versions AS BIGINT[]),
                    CAST(:revisions AS BIGINT[])) AS r (kind, id, version, revision)
        JOIN document_versions v
          ON v.kind = r.kind AND v.id = r.id AND v.revision = r.revision AND v.version\s""";

  static final String VERSIONS_STORED_AT_PLANNED = VERSIONS_STORED_AT + "= r.version";

  static final String VERSIONS_STORED_AFTER_PLANNED = VERSIONS_STORED_AT + ">= r.version";

  /** A version planned at {@code from}, stored at {@code revision}. */
  record StoredAt(VersionRef from, long revision) {}

  /**
   * For each of {@code planned}, the version its document got at its revision (none if history was
   * pruned). Most were stored where they were planned: those by primary key first; for the rest
   * (rebased), a range from the planned number on, which reads every later version of the document.
   * Asked for a range per result, PostgreSQL planned 1,000 of them as a hash join over the whole
   * table (it estimates a third of each document's history per range), and a replay of a
   * 1,000-document keyed batch took 250 ms instead of ~100 in the write benchmark; the ranges are
   * asked only for the few that need them.
   */
  static Map<StoredAt, Long> versionsStoredAt(JdbcClient jdbc, Collection<StoredAt> planned) {
    Map<StoredAt, Long> stored = storedAt(jdbc, VERSIONS_STORED_AT_PLANNED, planned);
    List<StoredAt> rebased = planned.stream().filter(p -> !stored.containsKey(p)).toList();
    stored.putAll(storedAt(jdbc, VERSIONS_STORED_AFTER_PLANNED, rebased));
    return stored;
  }

  private static Map<StoredAt, Long> storedAt(
      JdbcClient jdbc, String sql, Collection<StoredAt> planned) {
    Map<StoredAt, Long> stored = new HashMap<>();
    if (planned.isEmpty()) {
      return stored;
    }
    record Asked(Kind kind, String id, long revision) {}
    Map<Asked, StoredAt> asked = new HashMap<>();
    planned.forEach(p -> asked.put(new Asked(p.from().kind(), p.from().id(), p.revision()), p));
    jdbc.sql(sql)
        .param("kinds", planned.stream().map(p -> p.from().kind().name()).toArray(String[]::new))
        .param("ids", planned.stream().map(p -> p.from().id()).toArray(String[]::new))
        .param("versions", planned.stream().map(p -> p.from().version()).toArray(Long[]::new))
        .param("revisions", planned.stream().map(StoredAt::revision).toArray(Long[]::new))
        .query(
            rs -> {
              stored.put(
                  asked.get(
                      new Asked(
                          Kind.valueOf(rs.getString("kind")),
                          rs.getString("id"),
                          rs.getLong("revision"))),
                  rs.getLong("version"));
            });
    return stored;
  }

  /** Each given version that exists, in one statement. */
  static List<Document> selectVersions(JdbcClient jdbc, Collection<VersionRef> refs) {
    return byRefs(jdbc, VERSIONS, refs);
  }

  /** Every version of each given document from the given version on, in one statement. */
  static List<Document> selectVersionsSince(JdbcClient jdbc, Collection<VersionRef> from) {
    return byRefs(jdbc, VERSIONS_SINCE, from);
  }

  private static List<Document> byRefs(JdbcClient jdbc, String sql, Collection<VersionRef> refs) {
    return jdbc.sql(sql)
        .param("kinds", refs.stream().map(r -> r.kind().name()).toArray(String[]::new))
        .param("ids", refs.stream().map(VersionRef::id).toArray(String[]::new))
        .param("versions", refs.stream().map(VersionRef::version).toArray(Long[]::new))
        .query(DOCUMENT)
        .list();
  }

  /** For each of {@code keys}, the documents whose current version references it. */
  static Map<DocumentKey, List<DocumentKey>> referrers(
      JdbcClient jdbc, Collection<DocumentKey> keys) {
    Map<DocumentKey, List<DocumentKey>> referrers = new HashMap<>();
    if (keys.isEmpty()) {
      return referrers;
    }
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

  /**
   * One result as an idempotency record stores it. {@code rebasable}: the result of a {@linkplain
   * com.veltrix.config.catalog.CatalogStore.NewVersion#rebasable rebasable} write, whose {@code
   * version} is the number it planned; the append may have stored it after a head that moved, and
   * the version it got is the one its document has at the record's revision ({@link
   * JdbcWriteTransaction#idempotencyRecords} reads it). Left out of the JSON when false, so a
   * record without such a result is stored as before this field existed.
   */
  record StoredResult(
      Kind kind,
      String id,
      long version,
      boolean unchanged,
      @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean rebasable) {

    VersionRef ref() {
      return new VersionRef(kind, id, version);
    }

    /** The result, at {@code stored}: the version the write got. */
    IdempotencyRecord.Result at(long stored) {
      return new IdempotencyRecord.Result(kind, id, stored, unchanged);
    }
  }

  /** {@code results} as a record stores them: none rebasable. */
  static String writeResults(ObjectMapper json, List<IdempotencyRecord.Result> results) {
    return writeResults(json, results, Set.of());
  }

  /**
   * {@code results} as a record stores them; those written at one of {@code rebasable} (planned
   * versions of rebasable writes) marked so.
   */
  static String writeResults(
      ObjectMapper json, List<IdempotencyRecord.Result> results, Set<VersionRef> rebasable) {
    List<StoredResult> stored =
        results.stream()
            .map(
                r ->
                    new StoredResult(
                        r.kind(),
                        r.id(),
                        r.version(),
                        r.unchanged(),
                        !r.unchanged()
                            && rebasable.contains(new VersionRef(r.kind(), r.id(), r.version()))))
            .toList();
    try {
      return json.writeValueAsString(stored);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise idempotency results", e);
    }
  }

  static List<StoredResult> readResults(ObjectMapper json, String text) {
    try {
      return json.readValue(text, RESULTS);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored idempotency results are not JSON", e);
    }
  }
}
