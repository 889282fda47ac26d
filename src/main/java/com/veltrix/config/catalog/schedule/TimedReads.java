package com.veltrix.config.catalog.schedule;

import com.veltrix.config.catalog.CatalogStore;
import com.veltrix.config.catalog.CatalogStore.ListFilter;
import com.veltrix.config.catalog.CatalogStore.TimePoint;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.ConfigReader;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.DocumentNotFoundException;
import com.veltrix.config.catalog.FetchResult;
import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.ManifestCursor;
import com.veltrix.config.catalog.Overlay;
import com.veltrix.config.catalog.Page;
import com.veltrix.config.catalog.RevisionNotRetainedException;
import com.veltrix.config.catalog.write.ConfigWriter;
import com.veltrix.config.catalog.write.Preview;
import com.veltrix.config.catalog.write.WriteContext;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.springframework.stereotype.Service;

/**
 * Reads as of a time ({@code atTime}). A time in the past is the state at the last revision
 * committed at or before it (commit times come from the database's clock); a time in the future is
 * the current state with the PENDING schedules due by then applied, each checked as it will be when
 * it is written (a schedule that would fail is left out). Every answer says which revision it is
 * read at (a preview: the revision it starts from) and which schedules it assumed.
 */
@Service
public class TimedReads {

  private final ConfigReader reader;
  private final CatalogStore store;
  private final ScheduleStore schedules;
  private final ConfigWriter writer;

  TimedReads(
      ConfigReader reader, CatalogStore store, ScheduleStore schedules, ConfigWriter writer) {
    this.reader = reader;
    this.store = store;
    this.schedules = schedules;
    this.writer = writer;
  }

  /** An answer as of a time: the revision it was read at and the schedules it assumed applied. */
  public record Timed<T>(T value, long revision, List<String> assumedSchedules) {}

  /** What a time resolves to: a past revision, or a preview of the schedules due by then. */
  private record Resolved(long revision, Optional<Preview> preview) {

    List<String> assumed() {
      return preview.map(Preview::applied).orElse(List.of());
    }

    Overlay overlay() {
      return new Overlay(preview.orElseThrow().changed());
    }
  }

  private Resolved resolve(Instant at) {
    TimePoint point = store.timePoint(at);
    if (!point.future()) {
      if (point.revision() < point.oldestRetained()) {
        throw new RevisionNotRetainedException("atTime", point.revision(), point.oldestRetained());
      }
      return new Resolved(point.revision(), Optional.empty());
    }
    List<Preview.Planned> planned =
        schedules.pendingUntil(at).stream()
            .map(
                s ->
                    new Preview.Planned(
                        s.id(), s.writes(), new WriteContext(s.createdBy(), s.id()), s.applyAt()))
            .toList();
    Preview preview = writer.preview(planned);
    return new Resolved(preview.baseRevision(), Optional.of(preview));
  }

  private static void alone(OptionalLong other, String name) {
    if (other.isPresent()) {
      throw InvalidInputException.parameter("atTime", "give atTime or " + name + ", not both");
    }
  }

  /**
   * {@code GET /revision?atTime=}: the last revision committed at or before the time (for a time
   * still ahead, the current one), to read or follow changes from. No horizon check: the reads that
   * use it answer 410 when it is no longer retained.
   */
  public long revisionAt(Instant at) {
    TimePoint point = store.timePoint(at);
    return point.future() ? point.current() : point.revision();
  }

  /** {@code GET /{kind}/{id}?atTime=}. */
  public Timed<Document> get(
      DocumentKey key, OptionalLong version, OptionalLong atRevision, Instant atTime) {
    alone(version, "version");
    alone(atRevision, "atRevision");
    Resolved resolved = resolve(atTime);
    if (resolved.preview().isEmpty()) {
      Document d = reader.get(key, OptionalLong.empty(), OptionalLong.of(resolved.revision()));
      return new Timed<>(d, resolved.revision(), List.of());
    }
    Document d =
        resolved
            .overlay()
            .document(key)
            .or(() -> store.latest(key))
            .orElseThrow(
                () -> new DocumentNotFoundException(key + " would not exist at " + atTime));
    return new Timed<>(d, resolved.revision(), resolved.assumed());
  }

  /**
   * {@code GET /{kind}?atTime=}: a past time reads like {@code atRevision}; a preview's later pages
   * are computed over the state current when they are asked for.
   */
  public Timed<Page<Document>> list(
      ListFilter filter,
      OptionalInt limit,
      Optional<String> pageToken,
      OptionalLong atRevision,
      Instant atTime) {
    alone(atRevision, "atRevision");
    Resolved resolved = resolve(atTime);
    if (resolved.preview().isEmpty()) {
      return new Timed<>(
          reader.list(filter, limit, pageToken, OptionalLong.of(resolved.revision())),
          resolved.revision(),
          List.of());
    }
    Page<Document> page =
        reader.listPreview(filter, limit, pageToken, resolved.overlay(), atTime.toString());
    return new Timed<>(page, resolved.revision(), resolved.assumed());
  }

  /** gRPC {@code ListActive} with {@code at_time}. */
  public Timed<ManifestCursor> manifest(
      Set<Kind> kinds, Optional<String> zone, OptionalLong atRevision, Instant atTime) {
    alone(atRevision, "at_revision");
    Resolved resolved = resolve(atTime);
    ManifestCursor cursor =
        resolved.preview().isEmpty()
            ? reader.manifest(kinds, zone, OptionalLong.of(resolved.revision()))
            : reader.manifestPreview(kinds, zone, resolved.revision(), resolved.overlay());
    return new Timed<>(cursor, resolved.revision(), resolved.assumed());
  }

  /** gRPC {@code GetConfigs} with {@code at_time}: version-0 refs resolve as of that time. */
  public Timed<FetchResult> fetch(List<VersionRef> refs, Instant atTime) {
    reader.checkFetchSize(refs);
    FetchResult exact = reader.fetch(refs.stream().filter(r -> r.version() > 0).toList());
    Resolved resolved = resolve(atTime);
    List<DocumentKey> latest =
        refs.stream()
            .filter(r -> r.version() == 0)
            .map(r -> new DocumentKey(r.kind(), r.id()))
            .toList();
    Map<DocumentKey, Document> at = new HashMap<>();
    if (resolved.preview().isEmpty()) {
      store.atRevision(latest, resolved.revision()).forEach(d -> at.put(d.key(), d));
    } else {
      Overlay overlay = resolved.overlay();
      store.latestOf(latest).forEach(d -> at.put(d.key(), d));
      latest.forEach(k -> overlay.document(k).ifPresent(d -> at.put(k, d)));
    }
    Map<VersionRef, Document> byRef = new HashMap<>();
    exact.found().forEach(d -> byRef.put(new VersionRef(d.kind(), d.id(), d.version()), d));
    at.values().forEach(d -> byRef.put(new VersionRef(d.kind(), d.id(), 0), d));
    return new Timed<>(FetchResult.of(refs, byRef), resolved.revision(), resolved.assumed());
  }
}
