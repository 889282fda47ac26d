package com.veltrix.config.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

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

  /**
   * Maps every item (with its index), then refuses with the violations of all the items that
   * failed, so one answer names every bad element of a list, not just the first.
   */
  public static <T, R> List<R> mapAll(List<T> items, BiFunction<Integer, T, R> each) {
    List<R> results = new ArrayList<>(items.size());
    List<Violation> violations = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      try {
        results.add(each.apply(i, items.get(i)));
      } catch (InvalidInputException e) {
        violations.addAll(e.violations());
      }
    }
    if (!violations.isEmpty()) {
      throw new InvalidInputException(violations);
    }
    return results;
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
