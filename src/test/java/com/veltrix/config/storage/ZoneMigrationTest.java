package com.veltrix.config.storage;

import static com.veltrix.config.storage.ContentHashMigrationTest.flyway;
import static com.veltrix.config.storage.ContentHashMigrationTest.freshDatabase;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * V24-V26 give heads written before them the zone of their version, in batches (1,200 treasure
 * locations: three of them), leave kinds without zones alone, and may run again after being cut
 * short.
 */
class ZoneMigrationTest {

  @Test
  void headsWrittenBeforeTheColumnTakeTheirVersionsZoneAndItCanRunAgain() {
    DriverManagerDataSource source = freshDatabase("zone_migration");
    JdbcClient db = JdbcClient.create(source);
    flyway(source, "23").migrate();
    db.sql(
            """
            INSERT INTO document_versions
                (kind, id, version, revision, status, content_hash, size_bytes, zone, payload,
                 shard, updated_at, updated_by, request_id)
            SELECT 'TREASURE_LOCATION', 'loc-' || n, v, 2 * n + v, 'ACTIVE', 'h', 2,
                   'zone-' || (n % 7) || '-v' || v, '{}', 0, now(), 'seed', 'seed'
              FROM generate_series(1, 1200) AS n, generate_series(1, 2) AS v
            UNION ALL
            SELECT 'DROP_TABLE', 'dt-1', 1, 1, 'ACTIVE', 'h', 2, NULL, '{}', 0, now(), 'seed', 'seed'
            """)
        .update();
    db.sql(
            """
            INSERT INTO documents (kind, id, version, revision, status, content_hash)
            SELECT DISTINCT ON (kind, id) kind, id, version, revision, status, content_hash
              FROM document_versions ORDER BY kind, id, version DESC
            """)
        .update();

    flyway(source, "latest").migrate();
    assertZonesOfTheirHeadVersions(db);

    // cut short before Flyway recorded it: the next start runs it again, to the same result
    db.sql(
            "DELETE FROM flyway_schema_history WHERE installed_rank >="
                + " (SELECT installed_rank FROM flyway_schema_history WHERE version = '24')")
        .update();
    db.sql("UPDATE documents SET zone = NULL WHERE id IN ('loc-1', 'loc-1200')").update();
    flyway(source, "latest").migrate();
    assertZonesOfTheirHeadVersions(db);
  }

  private static void assertZonesOfTheirHeadVersions(JdbcClient db) {
    assertThat(
            db.sql(
                    """
                    SELECT count(*) FROM documents d
                      JOIN document_versions v
                        ON v.kind = d.kind AND v.id = d.id AND v.version = d.version
                     WHERE d.kind = 'TREASURE_LOCATION' AND d.zone = v.zone
                       AND d.zone LIKE '%-v2'
                    """)
                .query(Long.class)
                .single())
        .as("treasure locations whose head has its version's zone (the second version's)")
        .isEqualTo(1200);
    assertThat(db.sql("SELECT zone FROM documents WHERE id = 'dt-1'").query(String.class).list())
        .as("a drop table has no zone")
        .containsExactly((String) null);
  }
}
