package db.migration;

import com.veltrix.config.catalog.payload.CanonicalJson;
import com.veltrix.config.storage.BatchedMigration;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Moves every stored payload to RFC 8785 canonical JSON and recomputes its content hash and size
 * (and the head's hash in {@code documents}). Runs in small transactions of {@link #BATCH}
 * versions, keyset-paged by primary key, so that on CockroachDB no transaction grows large and none
 * touches the revision row; it writes nothing that is already canonical, so a run cut short (a
 * killed pod: Flyway writes its history row only at the end) is simply run again from the start.
 *
 * <p>Idempotency records keep the answers they stored (with the earlier hashes) until they expire
 * ({@code veltrix.idempotency.retain-for}, 24 h): a replay of a request made before the upgrade
 * still answers what it answered then.
 */
public class V13__content_hash_rfc8785 extends BatchedMigration {

  static final int BATCH = 500;

  private record Row(String kind, String id, long version, String payload, String hash) {}

  @Override
  protected void migrate(Connection connection) throws SQLException {
    List<Row> page = page(connection, "", "", -1);
    while (!page.isEmpty()) {
      rewrite(connection, page);
      connection.commit();
      Row last = page.get(page.size() - 1);
      page = page(connection, last.kind(), last.id(), last.version());
    }
  }

  private static List<Row> page(Connection connection, String kind, String id, long version)
      throws SQLException {
    try (PreparedStatement select =
        connection.prepareStatement(
            """
            SELECT kind, id, version, payload, content_hash
              FROM document_versions
             WHERE (kind, id, version) > (?, ?, ?)
             ORDER BY kind, id, version
             LIMIT ?
            """)) {
      select.setString(1, kind);
      select.setString(2, id);
      select.setLong(3, version);
      select.setInt(4, BATCH);
      List<Row> rows = new ArrayList<>(BATCH);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          rows.add(
              new Row(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getLong(3),
                  rs.getString(4),
                  rs.getString(5)));
        }
      }
      return rows;
    }
  }

  private static void rewrite(Connection connection, List<Row> rows) throws SQLException {
    try (PreparedStatement version =
            connection.prepareStatement(
                """
                UPDATE document_versions SET payload = ?, content_hash = ?, size_bytes = ?
                 WHERE kind = ? AND id = ? AND version = ?
                """);
        PreparedStatement head =
            connection.prepareStatement(
                """
                UPDATE documents SET content_hash = ?
                 WHERE kind = ? AND id = ? AND version = ?
                """)) {
      for (Row row : rows) {
        String canonical = CanonicalJson.recanonicalize(row.payload());
        String hash = CanonicalJson.sha256(canonical);
        if (canonical.equals(row.payload()) && hash.equals(row.hash())) {
          continue;
        }
        version.setString(1, canonical);
        version.setString(2, hash);
        version.setLong(3, canonical.getBytes(StandardCharsets.UTF_8).length);
        version.setString(4, row.kind());
        version.setString(5, row.id());
        version.setLong(6, row.version());
        version.addBatch();
        head.setString(1, hash);
        head.setString(2, row.kind());
        head.setString(3, row.id());
        head.setLong(4, row.version());
        head.addBatch();
      }
      version.executeBatch();
      head.executeBatch();
    }
  }
}
