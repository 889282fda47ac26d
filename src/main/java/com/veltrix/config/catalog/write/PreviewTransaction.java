package com.veltrix.config.catalog.write;

import com.veltrix.config.catalog.CatalogStore;
import com.veltrix.config.catalog.CatalogStore.Appended;
import com.veltrix.config.catalog.CatalogStore.Head;
import com.veltrix.config.catalog.CatalogStore.NewVersion;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.CatalogStore.WriteTransaction;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.IdempotencyRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A write transaction that writes nothing: its reads are the store's current state with the
 * versions appended so far laid over it, and {@link #append} only adds to that overlay. Running the
 * real write path ({@link GroupAttempt}) against it checks a future batch exactly as it will be
 * checked when it is written, against the state the batches before it leave.
 */
final class PreviewTransaction implements WriteTransaction {

  private final CatalogStore store;
  private final Map<DocumentKey, NewVersion> overlay = new LinkedHashMap<>();
  private long appends;

  PreviewTransaction(CatalogStore store) {
    this.store = store;
  }

  /** The newest version each written document would have, in the order they were first written. */
  Map<DocumentKey, NewVersion> overlay() {
    return overlay;
  }

  @Override
  public Map<DocumentKey, Head> heads(Collection<DocumentKey> keys) {
    Map<DocumentKey, Head> heads = new HashMap<>();
    List<DocumentKey> stored = new ArrayList<>();
    for (DocumentKey key : keys) {
      NewVersion laid = overlay.get(key);
      if (laid == null) {
        stored.add(key);
      } else {
        Document d = laid.document();
        heads.put(key, new Head(d.version(), d.revision(), d.status(), d.contentHash()));
      }
    }
    for (Document d : store.latestOf(stored)) {
      heads.put(d.key(), new Head(d.version(), d.revision(), d.status(), d.contentHash()));
    }
    return heads;
  }

  @Override
  public List<Document> versions(Collection<VersionRef> refs) {
    List<Document> found = new ArrayList<>();
    List<VersionRef> stored = new ArrayList<>();
    for (VersionRef ref : refs) {
      NewVersion laid = overlay.get(new DocumentKey(ref.kind(), ref.id()));
      if (laid != null && laid.document().version() == ref.version()) {
        found.add(laid.document());
      } else {
        stored.add(ref);
      }
    }
    found.addAll(store.versions(stored));
    return found;
  }

  @Override
  public List<Document> versionsSince(Collection<VersionRef> from) {
    // asked only for requests an earlier attempt may have committed: a preview never retries
    return List.of();
  }

  @Override
  public Map<DocumentKey, List<DocumentKey>> referrers(Collection<DocumentKey> keys) {
    Map<DocumentKey, List<DocumentKey>> referrers = new HashMap<>();
    store
        .referrers(keys)
        .forEach(
            (key, from) ->
                referrers.put(
                    key,
                    from.stream()
                        .filter(r -> !overlay.containsKey(r)) // their references were replaced
                        .collect(Collectors.toCollection(ArrayList::new))));
    for (NewVersion laid : overlay.values()) {
      for (DocumentKey key : keys) {
        if (laid.references().contains(key)) {
          referrers.computeIfAbsent(key, k -> new ArrayList<>()).add(laid.document().key());
        }
      }
    }
    referrers.values().removeIf(List::isEmpty);
    return referrers;
  }

  @Override
  public Map<String, IdempotencyRecord> idempotencyRecords(Collection<String> keys) {
    return Map.of(); // a PENDING schedule's key is unused
  }

  @Override
  public boolean earlierAttemptMayHaveCommitted() {
    return false; // a preview runs once and commits nothing
  }

  @Override
  public Map<DocumentKey, Document> versionsAt(Collection<DocumentKey> keys, long revision) {
    // asked only for requests an earlier attempt committed: a preview never retries
    return Map.of();
  }

  @Override
  public Appended append(List<NewVersion> versions, List<IdempotencyRecord> records) {
    appends++;
    for (NewVersion v : versions) {
      overlay.remove(v.document().key()); // keep the order of the last write
      overlay.put(
          v.document().key(),
          new NewVersion(
              v.document().atRevision(RequestPlan.UNASSIGNED),
              v.zone(),
              Set.copyOf(v.references())));
    }
    return new Appended(appends, null);
  }

  @Override
  public void discard() {}
}
