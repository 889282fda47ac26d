package com.veltrix.config.faults;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fault suite's PostgreSQL log, kept in {@code target/} for every run: statements that took a
 * second or more, lock waits over 100 ms, and every error with its statement (PostgreSQL's
 * default). A REST write in scenario a2 once answered 500 after its statement ran into the 10 s
 * {@code statement_timeout}, and the run had no database log to say which statement or why
 * (docs/performance.md, "Rebasable writes"); this is so that the next one is caught. After each
 * scenario the suite prints the lines of that scenario that are worth a look.
 */
final class PostgresLog {

  static final Path FILE = Path.of("target", "faults-postgresql.log");

  /** What a line must contain to be shown: slow statements, long lock waits, statement timeouts. */
  private static final List<String> WORTH_A_LOOK =
      List.of("duration: ", "still waiting for", "statement timeout");

  private static final int SHOWN = 10;

  private PostgresLog() {}

  /** {@code builder} logging to {@link #FILE}, appended to across restarts of one run. */
  static EmbeddedPostgres.Builder into(EmbeddedPostgres.Builder builder) throws IOException {
    Files.createDirectories(FILE.getParent());
    ProcessBuilder.Redirect append = ProcessBuilder.Redirect.appendTo(FILE.toFile());
    return builder
        .setServerConfig("log_min_duration_statement", "1000")
        .setServerConfig("log_lock_waits", "on")
        .setServerConfig("deadlock_timeout", "100ms")
        .setOutputRedirector(append)
        .setErrorRedirector(append);
  }

  /** Where the log ends now: the start of the next scenario's lines. */
  static long mark() {
    try {
      return Files.exists(FILE) ? Files.size(FILE) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * The lines since {@code mark} worth a look, each with the line after it (PostgreSQL's {@code
   * STATEMENT:} or {@code DETAIL:}), at most {@link #SHOWN}, and how many there were.
   */
  static String since(long mark) {
    List<String> lines = new ArrayList<>();
    try (RandomAccessFile file = new RandomAccessFile(FILE.toFile(), "r")) {
      file.seek(Math.min(mark, file.length()));
      byte[] rest = new byte[(int) (file.length() - file.getFilePointer())];
      file.readFully(rest);
      lines.addAll(new String(rest, StandardCharsets.UTF_8).lines().toList());
    } catch (IOException e) {
      return "PostgreSQL log not readable: " + e;
    }
    List<String> shown = new ArrayList<>();
    int found = 0;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (WORTH_A_LOOK.stream().anyMatch(line::contains)) {
        found++;
        if (shown.size() < SHOWN) {
          shown.add(line);
          if (i + 1 < lines.size()) {
            shown.add("    " + abbreviate(lines.get(i + 1)));
          }
        }
      }
    }
    StringBuilder report =
        new StringBuilder(found + " slow statements, long lock waits or statement timeouts");
    shown.forEach(s -> report.append("\n    ").append(s));
    return report.append(found > 0 ? "\n    (all in " + FILE + ")" : "").toString();
  }

  private static String abbreviate(String line) {
    return line.length() <= 300 ? line : line.substring(0, 300) + " ...";
  }
}
