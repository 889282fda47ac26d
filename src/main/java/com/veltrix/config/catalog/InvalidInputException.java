package com.veltrix.config.catalog;

import java.util.List;

/** The request is malformed or breaks a payload rule; {@link #violations()} says what and where. */
public final class InvalidInputException extends CatalogException {

  private final List<Violation> violations;

  public InvalidInputException(List<Violation> violations) {
    super(summary(violations));
    this.violations = List.copyOf(violations);
  }

  public static InvalidInputException parameter(String name, String message) {
    return new InvalidInputException(List.of(Violation.parameter(name, message)));
  }

  public List<Violation> violations() {
    return violations;
  }

  private static String summary(List<Violation> violations) {
    if (violations.size() == 1) {
      Violation v = violations.get(0);
      String where = v.pointer() != null ? v.pointer() : v.parameter();
      return (where == null || where.isEmpty() ? "" : where + ": ") + v.message();
    }
    return violations.size() + " problems in the request";
  }
}
