package db.migration;

import com.veltrix.config.storage.BatchedMigration;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Gives each head written before V24 the zone of its version, for the index of V26 (only the kinds
 * whose payloads have a zone). Runs in small transactions of {@link #BATCH} heads, keyset-paged by
 * primary key: CockroachDB's guidance for updating tens of thousands of rows or more is batches,
 * not one statement ("Bulk-update Data"). A head is written only while it is still at the version
 * read and its zone differs, so a run cut short is simply run again, and a head another pod moved
 * meanwhile keeps what that pod wrote.
 */
public class V25__backfill_document_zone extends BatchedMigration {

  static final int BATCH = 500;

  @Override
  protected void migrate(Connection connection) throws SQLException {
    try (PreparedStatement page =
            connection.prepareStatement(
                """
                SELECT d.kind, d.id, d.version, v.zone
                  FROM documents d
                  JOIN document_versions v
                    ON v.kind = d.kind AND v.id = d.id AND v.version = d.version
                 WHERE (d.kind, d.id) > (?, ?)
                   AND d.kind IN ('TREASURE_LOCATION', 'SPAWN_RULE')
                   AND d.zone IS DISTINCT FROM v.zone
                 ORDER BY d.kind, d.id
                 LIMIT ?
                """);
        PreparedStatement head =
            connection.prepareStatement(
                "UPDATE documents SET zone = ? WHERE kind = ? AND id = ? AND version = ?")) {
      String kind = "";
      String id = "";
      while (true) {
        page.setString(1, kind);
        page.setString(2, id);
        page.setInt(3, BATCH);
        int rows = 0;
        try (ResultSet rs = page.executeQuery()) {
          while (rs.next()) {
            kind = rs.getString(1);
            id = rs.getString(2);
            head.setString(1, rs.getString(4));
            head.setString(2, kind);
            head.setString(3, id);
            head.setLong(4, rs.getLong(3));
            head.addBatch();
            rows++;
          }
        }
        if (rows == 0) {
          break;
        }
        head.executeBatch();
        connection.commit();
      }
    }
  }
}
