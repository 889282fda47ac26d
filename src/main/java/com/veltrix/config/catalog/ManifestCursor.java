package com.veltrix.config.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Walks the ACTIVE documents of some kinds at one revision, a chunk at a time, so that a manifest
 * of a million entries never sits in memory. Not thread-safe: one consumer drives it.
 */
public final class ManifestCursor {

  private final CatalogStore store;
  private final long revision;
  private final List<Kind> kinds;
  private final Optional<String> zone;
  private int kindIndex;
  private String afterId = "";

  ManifestCursor(CatalogStore store, long revision, List<Kind> kinds, Optional<String> zone) {
    this.store = store;
    this.revision = revision;
    this.kinds = List.copyOf(kinds);
    this.zone = zone;
  }

  /** The revision every entry is read at. */
  public long revision() {
    return revision;
  }

  /** Up to {@code max} further entries, ordered by kind then id; empty once exhausted. */
  public List<ManifestEntry> next(int max) {
    List<ManifestEntry> chunk = new ArrayList<>(max);
    while (chunk.size() < max && kindIndex < kinds.size()) {
      int wanted = max - chunk.size();
      List<ManifestEntry> page =
          store.manifest(kinds.get(kindIndex), zone, revision, afterId, wanted);
      chunk.addAll(page);
      if (page.size() < wanted) {
        kindIndex++;
        afterId = "";
      } else {
        afterId = page.get(page.size() - 1).id();
      }
    }
    return chunk;
  }
}
