package com.veltrix.config.catalog.write;

import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.PreconditionFailedException;
import java.util.OptionalLong;

/**
 * A write's compare-and-set condition: {@code ifMatch} names the version that must be current;
 * {@code mustExist} / {@code mustNotExist} come from {@code If-Match: *} / {@code If-None-Match:
 * *}.
 */
public record Precondition(OptionalLong ifMatch, boolean mustExist, boolean mustNotExist) {

  public static final Precondition NONE = new Precondition(OptionalLong.empty(), false, false);

  public static Precondition ifMatch(long version) {
    return new Precondition(OptionalLong.of(version), false, false);
  }

  void check(DocumentKey key, long currentVersion) {
    if (mustNotExist && currentVersion > 0) {
      throw new PreconditionFailedException(
          key + " already exists (version " + currentVersion + ")", currentVersion);
    }
    if (mustExist && currentVersion == 0) {
      throw new PreconditionFailedException(key + " does not exist", 0);
    }
    if (ifMatch.isPresent() && ifMatch.getAsLong() != currentVersion) {
      throw new PreconditionFailedException(
          key
              + " is at version "
              + currentVersion
              + ", not "
              + ifMatch.getAsLong()
              + " as the write expected",
          currentVersion);
    }
  }
}
