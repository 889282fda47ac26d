package com.veltrix.config.catalog;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The identity of a document: its kind and id. An id is 1-128 characters of {@code [A-Za-z0-9._-]},
 * starting with a letter or digit; the constructor refuses anything else.
 */
public record DocumentKey(Kind kind, String id) implements Comparable<DocumentKey> {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  public DocumentKey {
    Objects.requireNonNull(kind, "kind");
    if (!isValidId(id)) {
      throw new IllegalArgumentException("invalid id");
    }
  }

  /** The id rule, as every error about an id (or a zone, or a reference) states it. */
  public static final String ID_RULE =
      "must be 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit";

  /** Whether {@code id} is a valid document id (the same rule the schemas use for references). */
  public static boolean isValidId(String id) {
    return id != null && ID.matcher(id).matches();
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
