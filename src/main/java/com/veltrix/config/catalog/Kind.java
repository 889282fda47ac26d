package com.veltrix.config.catalog;

import java.util.Arrays;
import java.util.Optional;

/** The three kinds of configuration document, with their REST path segment and schema name. */
public enum Kind {
  TREASURE_LOCATION("treasure-locations", "treasure-location"),
  DROP_TABLE("drop-tables", "drop-table"),
  SPAWN_RULE("spawn-rules", "spawn-rule");

  private final String pathSegment;
  private final String schemaName;

  Kind(String pathSegment, String schemaName) {
    this.pathSegment = pathSegment;
    this.schemaName = schemaName;
  }

  public String pathSegment() {
    return pathSegment;
  }

  public String schemaName() {
    return schemaName;
  }

  public static Optional<Kind> fromPathSegment(String segment) {
    return Arrays.stream(values()).filter(k -> k.pathSegment.equals(segment)).findFirst();
  }

  public static Optional<Kind> fromName(String name) {
    return Arrays.stream(values()).filter(k -> k.name().equals(name)).findFirst();
  }
}
