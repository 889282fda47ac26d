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

  /** Whether {@code id} is a valid document id (the same rule the schemas use for references). */
  public static boolean isValidId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  /** The key, or an {@link InvalidInputException} that names {@code where} the bad id came from. */
  public static DocumentKey of(Kind kind, String id, Violation.Location where) {
    if (!isValidId(id)) {
      throw new InvalidInputException(List.of(where.violation(idProblem(id))));
    }
    return new DocumentKey(kind, id);
  }

  static String idProblem(String id) {
    if (id == null || id.isEmpty()) {
      return "id is required: 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit";
    }
    return "invalid id: must be 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit";
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
