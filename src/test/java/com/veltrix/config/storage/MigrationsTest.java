package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
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
      return files.sorted().toList();
    }
  }

  static String withoutComments(Path file) throws IOException {
    return Files.readString(file).replaceAll("(?m)--.*$", "");
  }

  @Test
  void namesAreVersionedSnakeCaseWithoutGaps() throws IOException {
    List<Integer> versions =
        migrations().stream()
            .map(p -> NAME.matcher(p.getFileName().toString()))
            .peek(m -> assertThat(m.matches()).as(m.toString()).isTrue())
            .map(m -> Integer.parseInt(m.group(1)))
            .sorted()
            .toList();

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
}
