package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.veltrix.config.catalog.CatalogStore.NewVersion;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.Status;
import com.veltrix.config.support.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.jdbc.DataSourceProperties;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

/**
 * The storage contract once more with the cache of versions on (the test configuration turns it
 * off: every test empties the shared database, so the same version means other content in the next
 * test), and what the cache itself promises: a version read once is served from memory, and it
 * never answers for a version the database has pruned or no longer has after a restore.
 */
@TestPropertySource(properties = "veltrix.cache.versions.max-size=4MB")
class CatalogStoreWithVersionCacheTest extends CatalogStoreContract {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
  }

  @Autowired VersionCache cache;
  @Autowired RetentionProperties retention;
  @Autowired DatabaseProperties database;
  @Autowired DatabaseMigrations migrations;

  @BeforeEach
  void emptyTheCache() {
    cache.clear(); // the database was just emptied: as after a restore
  }

  void deleteBehindTheCache(DocumentKey key) {
    jdbc.sql("DELETE FROM document_versions WHERE kind = :kind AND id = :id")
        .param("kind", key.kind().name())
        .param("id", key.id())
        .update();
  }

  @Test
  void aVersionReadOnceIsServedFromMemory() {
    DocumentKey key = dt("cached");
    write(Status.ACTIVE, key);
    Document first = store.version(key, 1).orElseThrow();

    deleteBehindTheCache(key);

    assertThat(store.version(key, 1)).contains(first);
    assertThat(store.versions(List.of(new VersionRef(key.kind(), key.id(), 1))))
        .containsExactly(first);
    assertThat(store.version(key, 2)).as("never read, so asked of the database").isEmpty();
  }

  @Test
  void aBatchOfRefsMixesCachedAndStoredVersions() {
    DocumentKey a = dt("mix-a");
    DocumentKey b = dt("mix-b");
    write(Status.ACTIVE, a, b);
    Document cachedA = store.version(a, 1).orElseThrow();

    List<Document> both =
        store.versions(
            List.of(new VersionRef(a.kind(), a.id(), 1), new VersionRef(b.kind(), b.id(), 1)));

    assertThat(both).extracting(Document::id).containsExactlyInAnyOrder("mix-a", "mix-b");
    assertThat(both).contains(cachedA);
  }

  @Test
  void theLatestVersionIsAlwaysReadFromTheDatabase() {
    DocumentKey key = dt("moving");
    write(Status.ACTIVE, key);
    store.version(key, 1).orElseThrow();
    write(Status.ACTIVE, key);

    assertThat(store.latest(key).orElseThrow().version()).isEqualTo(2);
  }

  /**
   * Retention may prune a version once {@code retain-for} has passed since its successor was
   * written; one written less than {@code expire-after} (plus a minute) before that moment is not
   * kept, so no entry outlives the row.
   */
  @Test
  void aVersionCloseToTheHistoryHorizonIsNotCached() {
    DocumentKey key = dt("old");
    Instant nearlyPrunable =
        Instant.now()
            .minus(retention.history().retainFor())
            .plus(Duration.ofMinutes(5))
            .truncatedTo(ChronoUnit.MICROS);
    store.write(
        tx ->
            tx.append(
                List.of(
                    new NewVersion(
                        document(key, 1, 0, Status.ACTIVE, nearlyPrunable),
                        Optional.empty(),
                        Set.of())),
                List.of()));
    assertThat(store.version(key, 1)).isPresent();

    deleteBehindTheCache(key);

    assertThat(store.version(key, 1)).isEmpty();
  }

  @Test
  void aFailedReadinessProbeEmptiesTheCache() throws Exception {
    DocumentKey key = dt("unreachable");
    write(Status.ACTIVE, key);
    store.version(key, 1).orElseThrow();
    DatabaseProbe probe =
        new DatabaseProbe(
            new DataSourceProperties() {
              {
                setUrl("jdbc:postgresql://127.0.0.1:1/nowhere"); // refused
                setUsername("postgres");
              }
            },
            database,
            migrations,
            cache);

    assertThatThrownBy(() -> probe.check(Duration.ofMillis(200))).isInstanceOf(SQLException.class);

    deleteBehindTheCache(key);
    assertThat(store.version(key, 1)).as("asked of the database again").isEmpty();
  }

  @Test
  void aRevisionThatGoesBackEmptiesTheCache() {
    DocumentKey key = dt("restored");
    write(Status.ACTIVE, key);
    store.version(key, 1).orElseThrow();
    cache.observe(40);
    cache.observe(41);
    assertThat(cache.get(new VersionRef(key.kind(), key.id(), 1))).isPresent();

    cache.observe(12); // the probe read an earlier revision: the database was restored

    deleteBehindTheCache(key);
    assertThat(store.version(key, 1)).isEmpty();
  }
}
