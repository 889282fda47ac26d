package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.support.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the migrations runnable on CockroachDB, which runs them outside transactions: one statement
 * per file, only SQL both databases share (design.md, Storage), append-only naming.
 */
class MigrationsTest {

  static final Path DIR = Path.of("db/migration");
  static final Pattern NAME = Pattern.compile("V(\\d+)__[a-z0-9_]+\\.sql");
  static final List<String> FORBIDDEN =
      List.of(
          "SERIAL",
          "SEQUENCE",
          "TRIGGER",
          "FUNCTION",
          "PLPGSQL",
          "ADVISORY",
          "INTEGER ",
          " INT ",
          "SMALLINT",
          "VARCHAR",
          "USING HASH",
          "STORING",
          "INCLUDE (");

  static List<Path> migrations() throws IOException {
    try (Stream<Path> files = Files.list(DIR)) {
      return files
          .sorted(
              java.util.Comparator.comparingInt(
                  (Path p) -> {
                    Matcher m = NAME.matcher(p.getFileName().toString());
                    return m.matches() ? Integer.parseInt(m.group(1)) : Integer.MAX_VALUE;
                  }))
          .toList(); // by version: V10 after V9, as Flyway runs them
    }
  }

  static String withoutComments(Path file) throws IOException {
    return Files.readString(file).replaceAll("(?m)--.*$", "");
  }

  /** Java migrations (data rewrites SQL cannot express), in package db.migration. */
  static final Path JAVA = Path.of("src/main/java/db/migration");

  static final Pattern JAVA_NAME = Pattern.compile("V(\\d+)__[a-z0-9_]+\\.java");

  @Test
  void namesAreVersionedSnakeCaseWithoutGaps() throws IOException {
    List<Integer> versions;
    try (Stream<Path> java = Files.list(JAVA)) {
      versions =
          Stream.concat(
                  migrations().stream().map(p -> NAME.matcher(p.getFileName().toString())),
                  java.map(p -> JAVA_NAME.matcher(p.getFileName().toString())))
              .peek(m -> assertThat(m.matches()).as(m.toString()).isTrue())
              .map(m -> Integer.parseInt(m.group(1)))
              .sorted()
              .toList();
    }

    for (int i = 0; i < versions.size(); i++) {
      assertThat(versions.get(i)).isEqualTo(i + 1);
    }
  }

  @Test
  void everyFileHoldsExactlyOneStatement() throws IOException {
    for (Path file : migrations()) {
      String sql = withoutComments(file).trim();
      assertThat(sql).as(file.toString()).endsWith(";");
      assertThat(sql.chars().filter(c -> c == ';').count()).as(file.toString()).isEqualTo(1);
    }
  }

  @Test
  void usesOnlySqlThatCockroachDbAndPostgresqlShare() throws IOException {
    for (Path file : migrations()) {
      String sql = withoutComments(file).toUpperCase(Locale.ROOT);
      for (String word : FORBIDDEN) {
        assertThat(sql).as(file + " uses " + word).doesNotContain(word);
      }
    }
  }

  /**
   * CockroachDB runs each migration outside a transaction, so a crash between a statement and
   * Flyway's history row makes the next start run the statement again: every one must be safe to
   * re-run.
   */
  @Test
  void everyStatementIsSafeToRunAgain() throws Exception {
    for (Path file : migrations()) {
      String sql = withoutComments(file).toUpperCase(Locale.ROOT);
      if (sql.contains("CREATE ")) {
        assertThat(sql)
            .as(file.toString())
            .containsPattern("CREATE (UNIQUE )?(TABLE|INDEX) IF NOT EXISTS");
      }
      if (sql.contains("ADD COLUMN")) {
        assertThat(sql).as(file.toString()).contains("ADD COLUMN IF NOT EXISTS");
      }
      if (sql.contains("DROP ")) {
        assertThat(sql).as(file.toString()).contains("IF EXISTS");
      }
      if (sql.contains("INSERT ")) {
        assertThat(sql).as(file.toString()).contains("ON CONFLICT");
      }
    }
    try (Connection db = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "");
        Statement statement = db.createStatement()) {
      statement.execute("DROP SCHEMA IF EXISTS migrations_rerun CASCADE");
      statement.execute("CREATE SCHEMA migrations_rerun");
      statement.execute("SET search_path TO migrations_rerun");
      try {
        for (Path file : migrations()) {
          statement.execute(Files.readString(file)); // as if the history row was never written
          statement.execute(Files.readString(file));
        }
        try (ResultSet rs =
            statement.executeQuery(
                "SELECT count(*) FROM information_schema.tables"
                    + " WHERE table_schema = 'migrations_rerun'")) {
          rs.next();
          assertThat(rs.getInt(1)).isEqualTo(8);
        }
        try (ResultSet rs = statement.executeQuery("SELECT count(*) FROM revision_counter")) {
          rs.next();
          assertThat(rs.getInt(1)).isEqualTo(1);
        }
      } finally {
        statement.execute("SET search_path TO public");
        statement.execute("DROP SCHEMA migrations_rerun CASCADE");
      }
    }
  }
}
