package com.veltrix.config.catalog;

import java.time.Instant;

/**
 * One immutable version of a document. {@code payload} is the canonical JSON text whose SHA-256 is
 * {@code contentHash}; {@code revision} is the revision that wrote this version; {@code requestId}
 * is the request that wrote it (audit).
 */
public record Document(
    Kind kind,
    String id,
    long version,
    long revision,
    Status status,
    String contentHash,
    long sizeBytes,
    Instant updatedAt,
    String updatedBy,
    String requestId,
    String payload) {

  /** This version as written at {@code revision} (a new version learns its revision last). */
  public Document atRevision(long revision) {
    return stored(version, revision);
  }

  /**
   * This new version as stored at {@code version} and {@code revision} (an append may store a
   * rebasable write after a head that moved since it was planned).
   */
  public Document stored(long version, long revision) {
    return new Document(
        kind,
        id,
        version,
        revision,
        status,
        contentHash,
        sizeBytes,
        updatedAt,
        updatedBy,
        requestId,
        payload);
  }

  public DocumentKey key() {
    return new DocumentKey(kind, id);
  }
}
