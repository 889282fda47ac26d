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
  private final Overlay overlay;
  private int kindIndex;
  private String afterId = "";

  ManifestCursor(
      CatalogStore store, long revision, List<Kind> kinds, Optional<String> zone, Overlay overlay) {
    this.store = store;
    this.revision = revision;
    this.kinds = List.copyOf(kinds);
    this.zone = zone;
    this.overlay = overlay;
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
      Kind kind = kinds.get(kindIndex);
      List<ManifestEntry> page =
          overlay.page(
              kind,
              afterId,
              wanted,
              (after, n) -> store.manifest(kind, zone, revision, after, n),
              ManifestEntry::id,
              v ->
                  v.document().status() == Status.ACTIVE
                      && zone.map(z -> v.zone().equals(Optional.of(z))).orElse(true),
              v -> {
                Document d = v.document();
                return new ManifestEntry(
                    d.kind(), d.id(), d.version(), d.contentHash(), d.sizeBytes());
              });
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
