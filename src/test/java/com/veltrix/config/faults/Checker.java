package com.veltrix.config.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * What must hold after every scenario, read straight from the database: every acknowledged write is
 * stored exactly once at its version, versions are gap-free, no read was stale, and a batch retried
 * with the same idempotency key was applied once.
 */
final class Checker {

  private static final Pattern ITEM = Pattern.compile("\"itemId\":\"(i\\d+)\"");

  static void check(JdbcClient db, Load load) {
    assertThat(load.staleReads).as("stale reads").isEmpty();

    Map<String, Integer> stored = new HashMap<>();
    Map<String, long[]> versions = new HashMap<>();
    db.sql(
            "SELECT id, version, content_hash, payload FROM document_versions"
                + " WHERE kind = 'DROP_TABLE' AND id LIKE :prefix")
        .param("prefix", load.doc(0).replace("-0", "-%"))
        .query(
            rs -> {
              String id = rs.getString("id");
              long version = rs.getLong("version");
              long[] minMaxCount =
                  versions.computeIfAbsent(id, k -> new long[] {Long.MAX_VALUE, 0, 0});
              minMaxCount[0] = Math.min(minMaxCount[0], version);
              minMaxCount[1] = Math.max(minMaxCount[1], version);
              minMaxCount[2]++;
              Matcher m = ITEM.matcher(rs.getString("payload"));
              while (m.find()) {
                stored.merge(m.group(1), 1, Integer::sum);
              }
            });

    versions.forEach(
        (id, v) -> {
          assertThat(v[0]).as(id + " starts at version 1").isEqualTo(1);
          assertThat(v[2]).as(id + " has gap-free versions").isEqualTo(v[1]);
        });
    List<Load.Ack> acks = List.copyOf(load.acks);
    for (Load.Ack ack : acks) {
      String hash =
          db.sql(
                  "SELECT content_hash FROM document_versions"
                      + " WHERE kind = 'DROP_TABLE' AND id = :id AND version = :version")
              .param("id", ack.doc())
              .param("version", ack.version())
              .query(String.class)
              .optional()
              .orElse("missing");
      assertThat(hash)
          .as("acknowledged " + ack + " is stored at its version")
          .isEqualTo(ack.contentHash());
      assertThat(stored.get(ack.itemId())).as(ack.itemId() + " stored exactly once").isEqualTo(1);
    }
    for (String item : List.copyOf(load.attempted)) {
      assertThat(stored.getOrDefault(item, 0))
          .as(item + " stored at most once")
          .isLessThanOrEqualTo(1);
    }
  }
}
