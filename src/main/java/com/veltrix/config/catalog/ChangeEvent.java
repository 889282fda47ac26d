package com.veltrix.config.catalog;

import java.time.Instant;

/**
 * A committed change: the version a revision wrote. Every version is one change event. {@code
 * committedAt} is its revision's commit time (the database's clock); null only for revisions
 * written before commit times were recorded and not backfilled.
 */
public record ChangeEvent(
    long revision,
    Kind kind,
    String id,
    long version,
    Type type,
    String contentHash,
    Instant committedAt) {

  /** UPSERTED for an ACTIVE version, RETIRED for a tombstone. */
  public enum Type {
    UPSERTED,
    RETIRED;

    public static Type of(Status status) {
      return status == Status.ACTIVE ? UPSERTED : RETIRED;
    }
  }
}
