package com.veltrix.config.catalog;

import com.veltrix.config.catalog.CatalogStore.ListFilter;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.springframework.stereotype.Service;

/**
 * The read use cases. Current state comes straight from the database's primary (no cache of mutable
 * state); a listing's pages and a change page are each read at one revision.
 */
@Service
public class ConfigReader {

  private static final Violation.Location ZONE = Violation.Location.parameter("zone");

  private final CatalogStore store;
  private final CatalogLimits limits;
  private final PageTokenSigner tokens;

  public ConfigReader(CatalogStore store, CatalogLimits limits, PageTokenSigner tokens) {
    this.store = store;
    this.limits = limits;
    this.tokens = tokens;
  }

  public long currentRevision() {
    return store.currentRevision();
  }

  /**
   * The latest version (any status), a given {@code version}, or the state at {@code atRevision}.
   */
  public Document get(DocumentKey key, OptionalLong version, OptionalLong atRevision) {
    if (version.isPresent() && atRevision.isPresent()) {
      throw InvalidInputException.parameter("version", "give version or atRevision, not both");
    }
    if (version.isPresent()) {
      long v = positive("version", version.getAsLong());
      Optional<Document> found = store.version(key, v);
      if (found.isEmpty()) {
        // a version older than the head that is gone was pruned with the history
        long oldest = store.revisions().oldestRetained();
        boolean pruned = oldest > 0 && store.latest(key).map(d -> d.version() > v).orElse(false);
        throw pruned
            ? new RevisionNotRetainedException("version", v, oldest)
            : new DocumentNotFoundException(key + " has no version " + v);
      }
      return found.get();
    }
    if (atRevision.isPresent()) {
      long revision = revisionNotAfterCurrent("atRevision", atRevision.getAsLong());
      return store
          .atRevision(key, revision)
          .orElseThrow(
              () -> new DocumentNotFoundException(key + " did not exist at revision " + revision));
    }
    return store.latest(key).orElseThrow(() -> DocumentNotFoundException.of(key));
  }

  /** The versions of a document, newest first. */
  public Page<Document> history(DocumentKey key, OptionalInt limit, Optional<String> pageToken) {
    int size = pageSize(limit);
    String scope = "history " + key;
    Optional<PageToken> token = PageToken.decode(pageToken, scope, tokens);
    long revision;
    long before;
    if (token.isPresent()) {
      revision = token.get().revision();
      before = parsePosition(token.get().position());
    } else {
      revision = store.currentRevision();
      before = Long.MAX_VALUE;
    }
    List<Document> items = new ArrayList<>(store.history(key, before, size + 1));
    if (items.isEmpty() && token.isEmpty()) {
      throw DocumentNotFoundException.of(key);
    }
    Optional<String> next = Optional.empty();
    if (items.size() > size) {
      items = items.subList(0, size);
      long last = items.get(size - 1).version();
      next = Optional.of(new PageToken(scope, revision, Long.toString(last)).encode(tokens));
    }
    return new Page<>(revision, List.copyOf(items), next);
  }

  /**
   * A page of documents of one kind, by id. The first page is read at {@code atRevision} (default:
   * current); every following page at the same revision, carried by its token.
   */
  public Page<Document> list(
      ListFilter filter, OptionalInt limit, Optional<String> pageToken, OptionalLong atRevision) {
    return list(filter, limit, pageToken, atRevision, Overlay.NONE, "");
  }

  /**
   * A page of a preview: the current state with {@code overlay} (the scheduled batches due by
   * {@code previewOf}) laid over it. Each page is computed when it is asked for, over the state
   * current then: a preview is not a snapshot.
   */
  public Page<Document> listPreview(
      ListFilter filter,
      OptionalInt limit,
      Optional<String> pageToken,
      Overlay overlay,
      String previewOf) {
    return list(filter, limit, pageToken, OptionalLong.empty(), overlay, " preview " + previewOf);
  }

  private Page<Document> list(
      ListFilter filter,
      OptionalInt limit,
      Optional<String> pageToken,
      OptionalLong atRevision,
      Overlay overlay,
      String preview) {
    int size = pageSize(limit);
    filter.zone().ifPresent(zone -> DocumentKey.requireValidId(zone, ZONE));
    String scope =
        "list "
            + filter.kind()
            + " "
            + filter.status().map(Enum::name).orElse("*")
            + " "
            + filter.zone().orElse("*")
            + preview;
    Optional<PageToken> token = PageToken.decode(pageToken, scope, tokens);
    long revision;
    String afterId;
    if (token.isPresent()) {
      if (atRevision.isPresent() && atRevision.getAsLong() != token.get().revision()) {
        throw InvalidInputException.parameter(
            "atRevision", "differs from the revision of the pageToken; omit it on later pages");
      }
      revision = preview.isEmpty() ? token.get().revision() : store.currentRevision();
      afterId = token.get().position();
      requireRetained("pageToken", revision, store.revisions());
    } else {
      revision =
          atRevision.isPresent()
              ? revisionNotAfterCurrent("atRevision", atRevision.getAsLong())
              : store.currentRevision();
      afterId = "";
    }
    List<Document> items =
        new ArrayList<>(
            overlay.page(
                filter.kind(),
                afterId,
                size + 1,
                (after, n) -> store.list(filter, revision, after, n),
                Document::id,
                v ->
                    filter.status().map(st -> st == v.document().status()).orElse(true)
                        && filter.zone().map(z -> v.zone().equals(Optional.of(z))).orElse(true),
                CatalogStore.NewVersion::document));
    Optional<String> next = Optional.empty();
    if (items.size() > size) {
      items = items.subList(0, size);
      next = Optional.of(new PageToken(scope, revision, items.get(size - 1).id()).encode(tokens));
    }
    return new Page<>(revision, List.copyOf(items), next);
  }

  /**
   * The ACTIVE documents of {@code kinds} (all kinds when empty), optionally in one zone, at {@code
   * atRevision} (default: current), to be read a chunk at a time.
   */
  public ManifestCursor manifest(Set<Kind> kinds, Optional<String> zone, OptionalLong atRevision) {
    zone.ifPresent(z -> DocumentKey.requireValidId(z, ZONE));
    long revision =
        atRevision.isPresent()
            ? revisionNotAfterCurrent("atRevision", atRevision.getAsLong())
            : store.currentRevision();
    return new ManifestCursor(store, revision, ordered(kinds), zone, Overlay.NONE);
  }

  /** The manifest of a preview: the current state with {@code overlay} laid over it. */
  public ManifestCursor manifestPreview(
      Set<Kind> kinds, Optional<String> zone, long baseRevision, Overlay overlay) {
    zone.ifPresent(z -> DocumentKey.requireValidId(z, ZONE));
    return new ManifestCursor(store, baseRevision, ordered(kinds), zone, overlay);
  }

  private static List<Kind> ordered(Set<Kind> kinds) {
    return (kinds.isEmpty() ? EnumSet.allOf(Kind.class) : EnumSet.copyOf(kinds)).stream().toList();
  }

  /**
   * Documents by (kind, id, version), version 0 meaning the latest; at most {@code maxPageSize}
   * refs. Refs that do not exist are returned as missing, not as an error.
   */
  public FetchResult fetch(List<VersionRef> refs) {
    checkFetchSize(refs);
    List<VersionRef> exact = refs.stream().filter(r -> r.version() > 0).toList();
    List<DocumentKey> latest =
        refs.stream()
            .filter(r -> r.version() == 0)
            .map(r -> new DocumentKey(r.kind(), r.id()))
            .toList();
    Map<VersionRef, Document> byRef = new HashMap<>();
    for (Document d : store.versions(exact)) {
      byRef.put(new VersionRef(d.kind(), d.id(), d.version()), d);
    }
    for (Document d : store.latestOf(latest)) {
      byRef.put(new VersionRef(d.kind(), d.id(), 0), d);
    }
    return FetchResult.of(refs, byRef);
  }

  /** At most {@code maxPageSize} refs a fetch, else 400 / INVALID_ARGUMENT. */
  public void checkFetchSize(List<VersionRef> refs) {
    if (refs.size() > limits.maxPageSize()) {
      throw InvalidInputException.parameter(
          "refs", "at most " + limits.maxPageSize() + " refs a call, got " + refs.size());
    }
  }

  /**
   * Change events after {@code afterRevision}, in revision order: about {@code limit} of them, a
   * page always ending at a revision boundary (so it may run past the limit to keep one revision's
   * events together). The database reads at most about {@code limit} rows per shard whatever the
   * backlog: a consumer resuming from revision 0 after millions of changes pages through them at
   * the same cost per page as one that is nearly current.
   */
  public ChangePage changes(long afterRevision, OptionalInt limit, Set<Kind> kinds) {
    int size = pageSize(limit);
    CatalogStore.Revisions revisions = store.revisions();
    long current = revisions.current();
    long after = checkRevision("afterRevision", afterRevision, current);
    requireRetained("afterRevision", after, revisions);
    int maxRows = size + 1;
    List<ChangeEvent> rows = store.changes(after, current, maxRows);
    boolean truncated = rows.size() >= maxRows;
    List<ChangeEvent> events = new ArrayList<>();
    int i = 0;
    while (i < rows.size()) {
      long revision = rows.get(i).revision();
      int end = i;
      while (end < rows.size() && rows.get(end).revision() == revision) {
        end++;
      }
      if (truncated && end == rows.size()) {
        // the row cap may have cut this revision: it is sent whole, read on its own (a revision
        // is at most one batch), and ends the page
        events.addAll(store.changesAt(revision, kinds));
        return new ChangePage(revision, List.copyOf(events));
      }
      rows.subList(i, end).stream()
          .filter(e -> kinds.isEmpty() || kinds.contains(e.kind()))
          .forEach(events::add);
      i = end;
      if (events.size() >= size) {
        return new ChangePage(revision, List.copyOf(events));
      }
    }
    return new ChangePage(current, List.copyOf(events));
  }

  private int pageSize(OptionalInt limit) {
    if (limit.isEmpty()) {
      return limits.defaultPageSize();
    }
    int value = limit.getAsInt();
    if (value < 1 || value > limits.maxPageSize()) {
      throw InvalidInputException.parameter(
          "limit", "must be between 1 and " + limits.maxPageSize() + ", was " + value);
    }
    return value;
  }

  private long revisionNotAfterCurrent(String parameter, long revision) {
    if (revision < 0) {
      throw InvalidInputException.parameter(parameter, "must be 0 or more, was " + revision);
    }
    CatalogStore.Revisions revisions = store.revisions();
    checkRevision(parameter, revision, revisions.current());
    return requireRetained(parameter, revision, revisions);
  }

  /** Refuses a revision whose history is pruned (410 / FAILED_PRECONDITION). */
  private static long requireRetained(
      String parameter, long revision, CatalogStore.Revisions revisions) {
    if (revision < revisions.oldestRetained()) {
      throw new RevisionNotRetainedException(parameter, revision, revisions.oldestRetained());
    }
    return revision;
  }

  private static long checkRevision(String parameter, long revision, long current) {
    if (revision < 0) {
      throw InvalidInputException.parameter(parameter, "must be 0 or more, was " + revision);
    }
    if (revision > current) {
      throw new RevisionOutOfRangeException(parameter, revision, current);
    }
    return revision;
  }

  private static long positive(String parameter, long value) {
    if (value < 1) {
      throw InvalidInputException.parameter(parameter, "must be 1 or more, was " + value);
    }
    return value;
  }

  private static long parsePosition(String position) {
    try {
      return Long.parseLong(position);
    } catch (NumberFormatException e) {
      throw InvalidInputException.parameter("pageToken", "is not a valid page token");
    }
  }
}
