package com.veltrix.config.catalog.payload;

import com.veltrix.config.catalog.DocumentKey;
import java.util.Optional;
import java.util.Set;

/**
 * A payload that passed every rule of its kind: its canonical JSON, content hash and size, the zone
 * it belongs to (treasure locations and spawn rules) and the documents it references.
 */
public record ValidatedPayload(
    String canonicalJson,
    String contentHash,
    long sizeBytes,
    Optional<String> zone,
    Set<DocumentKey> references) {}
