package com.veltrix.config.catalog;

/** One line of a manifest: which version of a document is ACTIVE, and its hash and size. */
public record ManifestEntry(
    Kind kind, String id, long version, String contentHash, long sizeBytes) {}
