package com.veltrix.config.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.Document;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Document versions by {@code (kind, id, version)}, kept in memory: a version's content never
 * changes, so serving it from here is never a stale read (design.md, Reads). Current state is never
 * cached: "the latest version" is a question for the database every time.
 *
 * <p>Two ways a version row can go, and how the cache keeps to the database's answer:
 *
 * <ul>
 *   <li><b>Retention</b> prunes a version once its successor is older than {@code
 *       veltrix.history.retain-for}, so a version written more recently than {@code retain-for} ago
 *       can only be pruned after {@code retain-for} has passed since it was written. A version is
 *       cached only while that moment is more than {@code expire-after} (plus a minute for clocks)
 *       away, and an entry lives at most {@code expire-after}: the cache never answers for a
 *       version the database has pruned.
 *   <li><b>A restore</b> of the database to an earlier point can give an old {@code (kind, id,
 *       version)} new content. The readiness probe reads the revision every second ({@link
 *       #observe}); a revision lower than the last one it read means the database went back, and
 *       the cache is emptied. So does every failed probe: a restore takes the database (or its
 *       tables) away for a while, and new writes could carry the revision past the last one probed
 *       within a second. A blip of a second costs only re-reading what is asked for again.
 * </ul>
 *
 * Bounded by payload size ({@code veltrix.cache.versions.max-size}); metrics as {@code
 * cache_*{cache="versions"}}.
 */
@Component
class VersionCache {

  private static final Logger log = LoggerFactory.getLogger(VersionCache.class);
  private static final Duration CLOCK_MARGIN = Duration.ofMinutes(1);

  /** Bytes an entry costs besides its payload (key, record, strings other than the payload). */
  private static final int ENTRY_OVERHEAD = 512;

  private final Cache<VersionRef, Document> cache;
  private final Clock clock;
  private final Duration cacheableFor;
  private long lastProbedRevision = -1;

  VersionCache(
      VersionCacheProperties properties,
      RetentionProperties retention,
      Clock clock,
      MeterRegistry meters) {
    this.clock = clock;
    this.cacheableFor =
        retention.history().retainFor().minus(properties.expireAfter()).minus(CLOCK_MARGIN);
    long maxBytes = properties.maxSize().toBytes();
    if (maxBytes <= 0 || cacheableFor.isNegative() || cacheableFor.isZero()) {
      this.cache = null;
      return;
    }
    this.cache =
        Caffeine.newBuilder()
            .maximumWeight(maxBytes)
            .weigher((VersionRef ref, Document d) -> weight(d))
            .expireAfterWrite(properties.expireAfter())
            .recordStats()
            .build();
    CaffeineCacheMetrics.monitor(meters, cache, "versions");
  }

  private static int weight(Document d) {
    long bytes = 2L * d.payload().length() + ENTRY_OVERHEAD;
    return (int) Math.min(Integer.MAX_VALUE, bytes);
  }

  Optional<Document> get(VersionRef ref) {
    return cache == null ? Optional.empty() : Optional.ofNullable(cache.getIfPresent(ref));
  }

  /** The cached ones of {@code refs}. */
  Map<VersionRef, Document> getAll(Collection<VersionRef> refs) {
    Map<VersionRef, Document> found = new HashMap<>();
    if (cache != null) {
      for (VersionRef ref : refs) {
        Document d = cache.getIfPresent(ref);
        if (d != null) {
          found.put(ref, d);
        }
      }
    }
    return found;
  }

  /** Keeps {@code d} if it cannot be pruned before its entry expires. */
  void put(Document d) {
    if (cache != null && d.updatedAt().isAfter(Instant.now(clock).minus(cacheableFor))) {
      cache.put(new VersionRef(d.kind(), d.id(), d.version()), d);
    }
  }

  /**
   * The revision the readiness probe just read. Its reads are one after another on one thread, and
   * the database's reads are linearizable, so a lower revision than the previous one means the
   * database was restored to an earlier point.
   */
  synchronized void observe(long revision) {
    if (cache != null && revision < lastProbedRevision) {
      log.warn(
          "The revision went back from {} to {} (a database restored to an earlier point):"
              + " the cache of versions is emptied",
          lastProbedRevision,
          revision);
      clear();
    }
    lastProbedRevision = revision;
  }

  void clear() {
    if (cache != null) {
      cache.invalidateAll();
    }
  }
}
