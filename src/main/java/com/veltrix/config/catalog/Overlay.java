package com.veltrix.config.catalog;

import com.veltrix.config.catalog.CatalogStore.NewVersion;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Versions not written yet (a preview of scheduled batches) laid over pages read from the store: a
 * document the overlay writes is shown as the overlay has it, or not at all if that no longer
 * matches the filter; a document it creates appears in id order. Empty for every ordinary read.
 */
public final class Overlay {

  public static final Overlay NONE = new Overlay(Map.of());

  private final Map<DocumentKey, NewVersion> changed;

  public Overlay(Map<DocumentKey, NewVersion> changed) {
    this.changed = Map.copyOf(changed);
  }

  public boolean isEmpty() {
    return changed.isEmpty();
  }

  public Optional<Document> document(DocumentKey key) {
    return Optional.ofNullable(changed.get(key)).map(NewVersion::document);
  }

  /**
   * Up to {@code want} items of {@code kind} by id after {@code afterId}: the store's, read with
   * {@code base} ({@code afterId}, limit) a page at a time, with the overlay laid over them. {@code
   * matches} says whether an overlay version passes the read's filter, which the store applied to
   * its own items.
   */
  public <T> List<T> page(
      Kind kind,
      String afterId,
      int want,
      BiFunction<String, Integer, List<T>> base,
      Function<T, String> id,
      Predicate<NewVersion> matches,
      Function<NewVersion, T> item) {
    if (changed.isEmpty()) {
      return base.apply(afterId, want);
    }
    List<NewVersion> mine =
        changed.values().stream()
            .filter(v -> v.document().kind() == kind && matches.test(v))
            .sorted(Comparator.comparing(v -> v.document().id()))
            .toList();
    List<T> out = new ArrayList<>(want);
    String cursor = afterId;
    while (true) {
      List<T> read = base.apply(cursor, want + 1);
      boolean full = read.size() == want + 1;
      String cap = full ? id.apply(read.get(read.size() - 1)) : null;
      List<T> candidates = new ArrayList<>();
      for (T t : read) {
        if (!changed.containsKey(new DocumentKey(kind, id.apply(t)))) {
          candidates.add(t);
        }
      }
      String from = cursor;
      mine.stream()
          .filter(v -> v.document().id().compareTo(from) > 0)
          .filter(v -> cap == null || v.document().id().compareTo(cap) <= 0)
          .map(item)
          .forEach(candidates::add);
      candidates.sort(Comparator.comparing(id));
      for (T t : candidates) {
        out.add(t);
        if (out.size() == want) {
          return out;
        }
      }
      if (!full) {
        return out;
      }
      cursor = cap;
    }
  }
}
