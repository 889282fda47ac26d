package com.veltrix.config.catalog;

/**
 * One thing wrong with a request, and where: a JSON pointer into the request body, or the name of a
 * parameter (path, query or header). Exactly one of {@code pointer} and {@code parameter} is set.
 */
public record Violation(String pointer, String parameter, String message) {

  public static Violation at(String pointer, String message) {
    return new Violation(pointer, null, message);
  }

  public static Violation parameter(String name, String message) {
    return new Violation(null, name, message);
  }

  /** Where an input came from, so the same rule can report against a body field or a parameter. */
  public interface Location {
    Violation violation(String message);

    static Location pointer(String pointer) {
      return message -> at(pointer, message);
    }

    static Location parameter(String name) {
      return message -> Violation.parameter(name, message);
    }
  }

  /** This violation moved under {@code prefix} (a JSON pointer), e.g. a payload inside a batch. */
  public Violation under(String prefix) {
    return pointer == null ? this : new Violation(prefix + pointer, null, message);
  }
}
