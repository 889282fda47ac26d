package com.veltrix.config.catalog.payload;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.util.regex.Pattern;

/**
 * What is wrong with a body that is not JSON, said the same way by every adapter: Jackson's first
 * line without the parts written for a developer (the redacted source, the constraint's getter),
 * and where the parser stopped.
 */
public final class JsonSyntax {

  /** Jackson's "start marker at [Source: REDACTED (...); line: 1, column: 11]". */
  private static final Pattern SOURCE =
      Pattern.compile("\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)]");

  /** Where the limit is configured, or why trailing content is refused: Java names, not news. */
  private static final Pattern DEVELOPER_NOTE =
      Pattern.compile(
          " \\(from `StreamReadConstraints[^)]*\\)| \\(bound as `[^`]*`\\): not allowed as per `[^`]*`");

  private JsonSyntax() {}

  /**
   * "malformed JSON: ... (line L, column C)", or "JSON exceeds a limit: ..." past a parser limit.
   */
  public static String describe(JsonProcessingException e) {
    String message = e.getOriginalMessage();
    int newline = message.indexOf('\n');
    String first = newline < 0 ? message : message.substring(0, newline);
    first =
        DEVELOPER_NOTE
            .matcher(SOURCE.matcher(first).replaceAll("line $1, column $2"))
            .replaceAll("");
    if (e instanceof StreamConstraintsException) {
      return "JSON exceeds a limit: " + first;
    }
    JsonLocation at = e.getLocation();
    return "malformed JSON: "
        + first
        + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")");
  }
}
