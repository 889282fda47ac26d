package com.veltrix.config.catalog;

import java.time.Instant;
import java.util.List;

/**
 * The first result of a batch written with an idempotency key: enough to answer a replay with the
 * same documents (versions are immutable, so refs suffice).
 */
public record IdempotencyRecord(
    String key, String requestHash, long revision, List<Result> results, Instant createdAt) {

  /** This record for a batch answered at {@code revision}. */
  public IdempotencyRecord atRevision(long revision) {
    return new IdempotencyRecord(key, requestHash, revision, results, createdAt);
  }

  /** One write's outcome: the version it produced or found, and whether it was a no-op. */
  public record Result(Kind kind, String id, long version, boolean unchanged) {}
}
