package com.veltrix.config.catalog;

import java.util.List;
import java.util.Objects;

/**
 * The identity of a document: its kind and id. An id is 1-128 characters of {@code [A-Za-z0-9._-]},
 * starting with a letter or digit; the constructor refuses anything else.
 */
public record DocumentKey(Kind kind, String id) implements Comparable<DocumentKey> {

  /** The longest id: what {@link #ID_PATTERN} allows. */
  private static final int MAX_ID_LENGTH = 128;

  public DocumentKey {
    Objects.requireNonNull(kind, "kind");
    if (!isValidId(id)) {
      throw new IllegalArgumentException("invalid id");
    }
  }

  /** The id rule, as every error about an id (or a zone, or a reference) states it. */
  public static final String ID_RULE =
      "must be 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit";

  /**
   * The id rule as the schemas write it (their {@code $defs/id}: references, zones, item ids),
   * whose {@code pattern} keyword {@link #isValidId} implements.
   */
  public static final String ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";

  /**
   * Whether {@code id} is a valid document id: the whole of it, {@link #ID_PATTERN} as ECMA-262
   * reads it (its {@code $} is the end of the text, where {@code java.util.regex}'s also matches
   * before a final line break). A loop over the characters: every write's id, its references and
   * item ids pass through it; as a regular expression it took about 0.5 µs of the 8.4 µs that
   * parsing and checking one of the benchmark's drop tables takes (docs/performance.md).
   */
  public static boolean isValidId(String id) {
    if (id == null || id.isEmpty() || id.length() > MAX_ID_LENGTH || !letterOrDigit(id.charAt(0))) {
      return false;
    }
    for (int i = 1; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!letterOrDigit(c) && c != '.' && c != '_' && c != '-') {
        return false;
      }
    }
    return true;
  }

  private static boolean letterOrDigit(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }

  /** The key, or an {@link InvalidInputException} that names {@code where} the bad id came from. */
  public static DocumentKey of(Kind kind, String id, Violation.Location where) {
    requireValidId(id, where);
    return new DocumentKey(kind, id);
  }

  /** Refuses anything but a valid id (zones and references follow the same rule). */
  public static void requireValidId(String id, Violation.Location where) {
    if (!isValidId(id)) {
      throw new InvalidInputException(
          List.of(
              where.violation(id == null || id.isEmpty() ? "is required: " + ID_RULE : ID_RULE)));
    }
  }

  @Override
  public int compareTo(DocumentKey other) {
    int byKind = kind.compareTo(other.kind);
    return byKind != 0 ? byKind : id.compareTo(other.id);
  }

  @Override
  public String toString() {
    return kind + "/" + id;
  }
}
