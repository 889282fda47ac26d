package com.veltrix.config.storage;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.catalog.CatalogStore.Head;
import com.veltrix.config.catalog.CatalogStore.NewVersion;
import com.veltrix.config.catalog.CatalogStore.Stamp;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.CatalogStore.WriteTransaction;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.IdempotencyRecord;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.Status;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.TransactionStatus;

/**
 * One attempt at a write transaction: reads until {@link #append}, which takes the revision and
 * writes in one statement ({@link #APPEND}), a second only when there are references to insert.
 */
final class JdbcWriteTransaction implements WriteTransaction {

  /**
   * The revision and its commit time, the versions, the heads, the old references and the
   * idempotency record in one statement: the revision row is taken by this statement and held only
   * until COMMIT. Each table is modified once (CockroachDB refuses two ON CONFLICT / UPDATE /
   * DELETE modifications of one table in a statement, cockroachdb/cockroach#71595); the
   * data-modifying CTEs are all referenced from the final SELECT, and PostgreSQL runs them against
   * one snapshot, so the DELETE of old references never sees the new ones, which a second statement
   * inserts.
   */
  private static final String APPEND =
      """
      WITH r AS (
             UPDATE revision_counter SET revision = revision + 1,
                    committed_at = greatest(clock_timestamp(), committed_at)
              WHERE id = 1
             RETURNING revision, committed_at),
           t AS (
             INSERT INTO revision_times (revision, committed_at)
             SELECT r.revision, r.committed_at FROM r
             RETURNING 1),
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
             (SELECT count(*) FROM i) AS records,
             (SELECT count(*) FROM t) AS times
        FROM r
      """;

  private final JdbcClient jdbc;
  private final ObjectMapper json;
  private final TransactionStatus status;

  JdbcWriteTransaction(JdbcClient jdbc, ObjectMapper json, TransactionStatus status) {
    this.jdbc = jdbc;
    this.json = json;
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
        .param("kinds", DocumentRows.kindArray(keys))
        .param("ids", DocumentRows.idArray(keys))
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
    return refs.isEmpty() ? List.of() : DocumentRows.selectVersions(jdbc, refs);
  }

  @Override
  public Map<DocumentKey, List<DocumentKey>> referrers(Collection<DocumentKey> keys) {
    return DocumentRows.referrers(jdbc, keys);
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
                      DocumentRows.readResults(json, rs.getString("results")),
                      rs.getTimestamp("created_at").toInstant()));
            });
    return records;
  }

  /**
   * A primary-key prefix lookup per stamp, filtered on the stamp: it reads every version of those
   * documents, which is why only a retry after a lost commit reply asks (GroupAttempt).
   */
  @Override
  public List<Document> stampedVersions(Collection<Stamp> stamps) {
    if (stamps.isEmpty()) {
      return List.of();
    }
    List<DocumentKey> keys = stamps.stream().map(Stamp::key).toList();
    return jdbc.sql(
            """
            SELECT v.kind, v.id, v.version, v.revision, v.status, v.content_hash,
                   v.size_bytes, v.updated_at, v.updated_by, v.request_id, v.payload
              FROM unnest(CAST(:kinds AS TEXT[]), CAST(:ids AS TEXT[]),
                          CAST(:updatedAts AS TIMESTAMPTZ[]), CAST(:requestIds AS TEXT[]))
                AS s (kind, id, updated_at, request_id)
              JOIN document_versions v
                ON v.kind = s.kind AND v.id = s.id
               AND v.updated_at = s.updated_at AND v.request_id = s.request_id
            """)
        .param("kinds", DocumentRows.kindArray(keys))
        .param("ids", DocumentRows.idArray(keys))
        .param(
            "updatedAts",
            stamps.stream().map(x -> Timestamp.from(x.updatedAt())).toArray(Timestamp[]::new))
        .param("requestIds", stamps.stream().map(Stamp::requestId).toArray(String[]::new))
        .query(DocumentRows.DOCUMENT)
        .list();
  }

  @Override
  public Map<DocumentKey, Document> versionsAt(Collection<DocumentKey> keys, long revision) {
    Map<DocumentKey, Document> found = new HashMap<>();
    if (!keys.isEmpty()) {
      DocumentRows.selectAtRevision(jdbc, keys, revision).forEach(d -> found.put(d.key(), d));
    }
    return found;
  }

  @Override
  public long append(List<NewVersion> versions, List<IdempotencyRecord> records) {
    if (versions.isEmpty()) {
      throw new IllegalArgumentException("nothing to append");
    }
    List<DocumentKey> keys = versions.stream().map(v -> v.document().key()).toList();
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
                    .map(r -> DocumentRows.writeResults(json, r.results()))
                    .toArray(String[]::new))
            .addValue(
                "recordCreatedAts",
                records.stream().map(r -> Timestamp.from(r.createdAt())).toArray(Timestamp[]::new));
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
        .param("refKinds", DocumentRows.kindArray(referenced))
        .param("refIds", DocumentRows.idArray(referenced))
        .param("kinds", DocumentRows.kindArray(referrers))
        .param("ids", DocumentRows.idArray(referrers))
        .update();
  }

  @Override
  public void discard() {
    TransactionRunner.discard(status);
  }

  private static <T> T[] column(
      List<NewVersion> versions, Function<NewVersion, T> value, IntFunction<T[]> array) {
    return versions.stream().map(value).toArray(array);
  }
}
