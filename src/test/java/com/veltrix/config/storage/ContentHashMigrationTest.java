package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.catalog.payload.CanonicalJson;
import com.veltrix.config.support.TestDatabase;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * V13 moves payloads stored in the earlier canonical form to RFC 8785 and recomputes their hashes
 * and sizes, leaves canonical ones alone, and may run again after being cut short.
 */
class ContentHashMigrationTest {

  /** The earlier form: exponent in upper case, small numbers in plain decimal. */
  static final String OLD =
      "{\"entries\":[{\"itemId\":\"gold\",\"maxQuantity\":3,\"minQuantity\":1,\"weight\":1E+21},"
          + "{\"itemId\":\"dust\",\"maxQuantity\":1,\"minQuantity\":0,\"weight\":0.0000001}],"
          + "\"rolls\":1}";

  static final String NEW =
      "{\"entries\":[{\"itemId\":\"gold\",\"maxQuantity\":3,\"minQuantity\":1,\"weight\":1e+21},"
          + "{\"itemId\":\"dust\",\"maxQuantity\":1,\"minQuantity\":0,\"weight\":1e-7}],"
          + "\"rolls\":1}";
  static final String ALREADY = "{\"entries\":[],\"rolls\":2}";

  @Test
  void rewritesOldPayloadsHashesAndSizesOnceAndCanRunAgain() {
    DriverManagerDataSource source = freshDatabase("jcs_migration");
    JdbcClient db = JdbcClient.create(source);
    flyway(source, "12").migrate();
    insert(db, "dt-old", OLD);
    insert(db, "dt-new", ALREADY);

    flyway(source, "latest").migrate();

    assertThat(row(db, "dt-old"))
        .containsEntry("payload", NEW)
        .containsEntry("content_hash", CanonicalJson.sha256(NEW))
        .containsEntry("size_bytes", (long) NEW.length())
        .containsEntry("head_hash", CanonicalJson.sha256(NEW));
    assertThat(row(db, "dt-new"))
        .containsEntry("payload", ALREADY)
        .containsEntry("content_hash", CanonicalJson.sha256(ALREADY));

    // cut short before Flyway recorded it: the next start runs it again, to the same result
    // (and the later migrations with it, as if the start had stopped there)
    db.sql(
            "DELETE FROM flyway_schema_history WHERE installed_rank >="
                + " (SELECT installed_rank FROM flyway_schema_history WHERE version = '13')")
        .update();
    flyway(source, "latest").migrate();
    assertThat(row(db, "dt-old")).containsEntry("payload", NEW);
  }

  /** A new, empty database {@code name} on the test server. */
  static DriverManagerDataSource freshDatabase(String name) {
    return new DriverManagerDataSource(TestDatabase.fresh(name), "postgres", "");
  }

  static Flyway flyway(DriverManagerDataSource source, String target) {
    return Flyway.configure()
        .dataSource(source)
        .locations("classpath:db/migration")
        .target(target)
        .load();
  }

  static void insert(JdbcClient db, String id, String payload) {
    String oldHash = CanonicalJson.sha256(payload + " in the earlier form");
    db.sql(
            """
            INSERT INTO document_versions
                (kind, id, version, revision, status, content_hash, size_bytes, zone, payload,
                 shard, updated_at, updated_by, request_id)
            VALUES ('DROP_TABLE', :id, 1, 1, 'ACTIVE', :hash, :size, NULL, :payload, 0, now(),
                    'seed', 'seed')
            """)
        .param("id", id)
        .param("hash", payload.equals(ALREADY) ? CanonicalJson.sha256(payload) : oldHash)
        .param("size", payload.length())
        .param("payload", payload)
        .update();
    db.sql(
            """
            INSERT INTO documents (kind, id, version, revision, status, content_hash)
            SELECT kind, id, version, revision, status, content_hash FROM document_versions
             WHERE id = :id
            """)
        .param("id", id)
        .update();
  }

  static Map<String, Object> row(JdbcClient db, String id) {
    return db.sql(
            """
            SELECT v.payload, v.content_hash, v.size_bytes, d.content_hash AS head_hash
              FROM document_versions v JOIN documents d ON d.kind = v.kind AND d.id = v.id
             WHERE v.id = :id
            """)
        .param("id", id)
        .query()
        .singleRow();
  }
}
