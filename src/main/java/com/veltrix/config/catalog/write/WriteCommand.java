package com.veltrix.config.catalog.write;

import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.catalog.DocumentKey;

/** One write of a batch (or a single-document call): an upsert, a retire or a rollback. */
public sealed interface WriteCommand {

  DocumentKey key();

  Precondition precondition();

  /** Create or update with {@code payload}. */
  record Upsert(DocumentKey key, JsonNode payload, Precondition precondition)
      implements WriteCommand {}

  /** Retire: a tombstone version. */
  record Retire(DocumentKey key, Precondition precondition) implements WriteCommand {}

  /** A new version with the content of {@code toVersion}. */
  record Rollback(DocumentKey key, long toVersion, Precondition precondition)
      implements WriteCommand {}
}
