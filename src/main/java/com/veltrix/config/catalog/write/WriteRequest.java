package com.veltrix.config.catalog.write;

import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.payload.ValidatedPayload;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One validated write call waiting to be committed: its writes, its idempotency key and the hash of
 * its request, who sent it, and the time stamped on its versions (taken once, before its first
 * attempt, so a retry can recognise a commit whose reply was lost).
 *
 * <p>{@code appended} is every version an attempt of this request asked the store to append: where
 * a commit whose reply was lost put it, or below it (a rebasable write is stored after a head that
 * moved since its reads), so a retry reads each document from there on instead of its whole
 * history. Used by the one thread that runs the attempts.
 */
record WriteRequest(
    List<Prepared> prepared,
    Optional<String> idempotencyKey,
    String requestHash,
    WriteContext context,
    Instant now,
    Set<VersionRef> appended) {

  WriteRequest(
      List<Prepared> prepared,
      Optional<String> idempotencyKey,
      String requestHash,
      WriteContext context,
      Instant now) {
    this(prepared, idempotencyKey, requestHash, context, now, new HashSet<>());
  }

  /** A write with its payload validated (upserts only). */
  record Prepared(WriteCommand command, Optional<ValidatedPayload> payload) {}

  /** How many versions this request may write. */
  int size() {
    return prepared.size();
  }

  long payloadBytes() {
    return prepared.stream()
        .mapToLong(p -> p.payload().map(ValidatedPayload::sizeBytes).orElse(0L))
        .sum();
  }
}
