package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.veltrix.config.catalog.CatalogLimits;
import com.veltrix.config.catalog.CatalogStore;
import com.veltrix.config.catalog.CatalogStore.Head;
import com.veltrix.config.catalog.CatalogStore.ListFilter;
import com.veltrix.config.catalog.CatalogStore.NewVersion;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.CatalogStore.WriteTransaction;
import com.veltrix.config.catalog.ChangeEvent;
import com.veltrix.config.catalog.ChangePage;
import com.veltrix.config.catalog.ConfigReader;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.IdempotencyRecord;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.ManifestEntry;
import com.veltrix.config.catalog.PageTokenSigner;
import com.veltrix.config.catalog.Status;
import com.veltrix.config.support.TestDatabase;
import io.github.resilience4j.springboot3.circuitbreaker.autoconfigure.CircuitBreakerAutoConfiguration;
import io.github.resilience4j.springboot3.retry.autoconfigure.RetryAutoConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.autoconfigure.jdbc.AutoConfigureTestDatabase;
import org.springframework.boot.test.autoconfigure.jdbc.JdbcTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;

/**
 * The storage adapter against a real database: isolation, revisions, snapshots, the change feed.
 * Subclasses choose the database.
 */
@JdbcTest
@AutoConfigureTestDatabase(replace = AutoConfigureTestDatabase.Replace.NONE)
@Transactional(propagation = Propagation.NOT_SUPPORTED)
@ImportAutoConfiguration({
  JacksonAutoConfiguration.class,
  CircuitBreakerAutoConfiguration.class,
  RetryAutoConfiguration.class
})
@EnableConfigurationProperties({
  RetryProperties.class,
  DatabaseProperties.class,
  RetentionProperties.class,
  VersionCacheProperties.class,
  com.veltrix.config.catalog.RequestBudget.class
})
@Import({
  JdbcCatalogStore.class,
  VersionCache.class,
  TransactionRunner.class,
  DatabaseMigrations.class,
  DataSourceWiring.class,
  CatalogStoreContract.Meters.class
})
abstract class CatalogStoreContract {

  @TestConfiguration
  static class Meters {
    @Bean
    MeterRegistry meterRegistry() {
      return new SimpleMeterRegistry();
    }

    @Bean
    Clock clock() {
      return Clock.systemUTC();
    }
  }

  @Autowired JdbcCatalogStore store;
  @Autowired JdbcClient jdbc;
  @Autowired MeterRegistry meters;
  @Autowired DataSource dataSource;

  @BeforeEach
  void resetData() {
    TestDatabase.reset(jdbc);
  }

  /** Writes one version of each key in one transaction, in zone-a; returns its revision. */
  long write(Status status, DocumentKey... keys) {
    return writeIn("zone-a", status, keys);
  }

  /** Writes one version of each key in {@code zone} in one transaction; returns its revision. */
  long writeIn(String zone, Status status, DocumentKey... keys) {
    return store.write(tx -> append(tx, zone, status, keys));
  }

  /** In {@code tx}: one version of each key after its head, in zone-a; returns the revision. */
  long append(WriteTransaction tx, Status status, DocumentKey... keys) {
    return append(tx, "zone-a", status, keys);
  }

  private long append(WriteTransaction tx, String zone, Status status, DocumentKey... keys) {
    var heads = tx.heads(List.of(keys));
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    List<NewVersion> versions = new java.util.ArrayList<>();
    for (DocumentKey key : keys) {
      long version = heads.containsKey(key) ? heads.get(key).version() + 1 : 1;
      versions.add(
          new NewVersion(document(key, version, 0, status, now), Optional.of(zone), Set.of()));
    }
    return tx.append(versions, List.of()).revision();
  }

  @Test
  void anAppendReturnsItsRevisionAndTheCommitTimeTheFeedReports() {
    write(Status.ACTIVE, dt("a"));
    CatalogStore.Appended appended =
        store.write(
            tx -> {
              var heads = tx.heads(List.of(dt("a"), dt("b")));
              return tx.append(List.of(next(dt("a"), heads), next(dt("b"), heads)), List.of());
            });

    assertThat(appended.revision()).isEqualTo(2);
    assertThat(appended.committedAt()).isNotNull();
    assertThat(store.changes(1, 2, 10))
        .extracting(ChangeEvent::committedAt)
        .containsOnly(appended.committedAt());
  }

  static Document document(DocumentKey key, long version, long revision, Status status) {
    return document(key, version, revision, status, Instant.now().truncatedTo(ChronoUnit.MICROS));
  }

  /** One transaction's versions share their time, as the writer stamps them. */
  static Document document(
      DocumentKey key, long version, long revision, Status status, Instant at) {
    return new Document(
        key.kind(),
        key.id(),
        version,
        revision,
        status,
        "h" + version,
        10,
        at,
        "tester",
        "req-1",
        "{\"v\":" + version + "}");
  }

  static DocumentKey dt(String id) {
    return new DocumentKey(Kind.DROP_TABLE, id);
  }

  /**
   * The reads run before the transaction: another pod's commit meanwhile does not fail it (on
   * PostgreSQL it did, with 40001, while the reads ran inside the SERIALIZABLE transaction).
   */
  @Test
  void aWriteReadsBeforeItsTransactionBegins() {
    write(Status.ACTIVE, dt("a")); // r1
    double retriedBefore = meters.counter("veltrix.db.retries", "outcome", "retried").count();
    long revision =
        store.write(
            tx -> {
              var heads = tx.heads(List.of(dt("a")));
              anotherPod("UPDATE revision_counter SET revision = revision + 1 WHERE id = 1");
              return tx.append(List.of(next(dt("a"), heads)), List.of()).revision();
            });

    assertThat(revision).isEqualTo(3);
    assertThat(meters.counter("veltrix.db.retries", "outcome", "retried").count())
        .isEqualTo(retriedBefore);
  }

  /**
   * Another pod moves a head between this attempt's read of it and its append: the append writes
   * nothing and the attempt runs again with fresh reads, so no version is written twice.
   */
  @Test
  void aHeadThatMovedAfterTheReadsIsCaughtByTheAppendAndTheAttemptRunsAgain() {
    write(Status.ACTIVE, dt("a")); // r1
    assertThat(
            writeBothAfterAnotherPod(
                "UPDATE documents SET version = 2 WHERE kind = 'DROP_TABLE' AND id = 'a'"))
        .isEqualTo(2);
    assertThat(store.latest(dt("a")).orElseThrow().version()).isEqualTo(3);
  }

  /** A document created after the read found none is caught the same way. */
  @Test
  void aDocumentCreatedAfterTheReadsIsCaughtByTheAppend() {
    write(Status.ACTIVE, dt("a")); // r1
    assertThat(
            writeBothAfterAnotherPod(
                "INSERT INTO documents (kind, id, version, revision, status, content_hash)"
                    + " VALUES ('DROP_TABLE', 'b', 1, 2, 'ACTIVE', 'h1')"))
        .isEqualTo(2);
    assertThat(store.latest(dt("b")).orElseThrow().version()).isEqualTo(2);
  }

  /**
   * A rebasable write (an upsert with no precondition and no idempotency record) whose head another
   * pod moved after the reads is stored after that head by the same attempt: no second attempt, and
   * the append says at which version.
   */
  @Test
  void aRebasableWriteWhoseHeadMovedIsStoredAfterItInTheSameAttempt() {
    int[] attempts = {0};
    CatalogStore.Appended appended = writeARebasablyAfterAnotherPodWrote("another-pod", attempts);

    assertThat(attempts[0]).isEqualTo(1);
    assertThat(appended.revision()).isEqualTo(3);
    assertThat(appended.rebased()).isEqualTo(Map.of(dt("a"), 3L));
    assertThat(store.latest(dt("a")).orElseThrow())
        .extracting(Document::version, Document::contentHash)
        .containsExactly(3L, "h2");
    assertThat(store.changesAt(3, Set.of(Kind.DROP_TABLE)))
        .extracting(ChangeEvent::version)
        .containsExactly(3L);
  }

  /**
   * A rebasable write with an idempotency key: its record, stored in the same statement, holds the
   * version it planned (2), marked; read back, the record says the version the append stored it at
   * (3), which a replay answers. A record of the same write not rebased reads as stored.
   */
  @Test
  void aRebasedWritesIdempotencyRecordIsReadAtTheVersionTheWriteGot() {
    write(Status.ACTIVE, dt("a"));
    int[] attempts = {0};
    CatalogStore.Appended appended =
        store.write(
            tx -> {
              attempts[0]++;
              var heads = tx.heads(List.of(dt("a")));
              anotherPodWritesVersion2OfA("another-pod");
              NewVersion v = rebasable(next(dt("a"), heads));
              return tx.append(List.of(v), List.of(recordOf("k", v)));
            });
    assertThat(attempts[0]).isEqualTo(1);
    assertThat(appended.rebased()).isEqualTo(Map.of(dt("a"), 3L));
    String stored =
        jdbc.sql("SELECT results FROM idempotency_records WHERE idempotency_key = 'k'")
            .query(String.class)
            .single();
    assertThat(stored).as("stored as planned, marked").contains("\"version\":2", "rebasable");

    IdempotencyRecord read = records("k");

    assertThat(read.revision()).isEqualTo(3);
    assertThat(read.results())
        .containsExactly(new IdempotencyRecord.Result(Kind.DROP_TABLE, "a", 3, false));
  }

  @Test
  void aRebasableWritesIdempotencyRecordThatWasNotRebasedReadsAsPlanned() {
    write(Status.ACTIVE, dt("a"));
    store.write(
        tx -> {
          NewVersion v = rebasable(next(dt("a"), tx.heads(List.of(dt("a")))));
          return tx.append(List.of(v), List.of(recordOf("k", v)));
        });
    write(Status.ACTIVE, dt("a")); // after it: version 3, at revision 3

    assertThat(records("k").results())
        .containsExactly(new IdempotencyRecord.Result(Kind.DROP_TABLE, "a", 2, false));
  }

  private static IdempotencyRecord recordOf(String key, NewVersion written) {
    Document d = written.document();
    return new IdempotencyRecord(
        key,
        "hash",
        0,
        List.of(new IdempotencyRecord.Result(d.kind(), d.id(), d.version(), false)),
        Instant.now());
  }

  private IdempotencyRecord records(String key) {
    return store.write(
        tx -> {
          tx.discard();
          return tx.idempotencyRecords(List.of(key)).get(key);
        });
  }

  /**
   * The head moved to a version with this write's own content: writing it again would be a no-op,
   * so the append refuses and the attempt runs again (where the writer finds it unchanged).
   */
  @Test
  void aRebasableWriteWhoseMovedHeadHoldsItsContentRunsAgain() {
    int[] attempts = {0};
    // "h2": what next() plans to write
    CatalogStore.Appended appended = writeARebasablyAfterAnotherPodWrote("h2", attempts);

    assertThat(attempts[0]).isEqualTo(2);
    assertThat(appended.rebased()).isEmpty();
    assertThat(store.latest(dt("a")).orElseThrow().version()).isEqualTo(3);
  }

  /**
   * Writes version 1 of DROP_TABLE/a, then its next version, rebasable; between the first attempt's
   * reads and its append another pod writes version 2 with {@code hash}. Counts the attempts.
   */
  private CatalogStore.Appended writeARebasablyAfterAnotherPodWrote(String hash, int[] attempts) {
    write(Status.ACTIVE, dt("a"));
    return store.write(
        tx -> {
          attempts[0]++;
          var heads = tx.heads(List.of(dt("a")));
          if (attempts[0] == 1) {
            anotherPodWritesVersion2OfA(hash);
          }
          return tx.append(List.of(rebasable(next(dt("a"), heads))), List.of());
        });
  }

  private static NewVersion rebasable(NewVersion v) {
    return new NewVersion(v.document(), v.zone(), v.references(), true);
  }

  /** Another pod's commit of version 2 of DROP_TABLE/a with {@code hash}, at revision 2. */
  private void anotherPodWritesVersion2OfA(String hash) {
    anotherPod(
        "UPDATE revision_counter SET revision = revision + 1 WHERE id = 1",
        "INSERT INTO document_versions (kind, id, version, revision, status, content_hash,"
            + " size_bytes, zone, payload, shard, updated_at, updated_by, request_id)"
            + " VALUES ('DROP_TABLE', 'a', 2, 2, 'ACTIVE', '"
            + hash
            + "', 2, NULL, '{}', "
            + JdbcCatalogStore.shardOf(Kind.DROP_TABLE, "a")
            + ", now(), 'another-pod', 'another-request')",
        "UPDATE documents SET version = 2, revision = 2, content_hash = '"
            + hash
            + "' WHERE kind = 'DROP_TABLE' AND id = 'a'");
  }

  /**
   * Writes the next versions of a and b; between the first attempt's reads and its append another
   * pod takes a revision and runs {@code change}. Returns the number of attempts.
   */
  private int writeBothAfterAnotherPod(String change) {
    double retriedBefore = meters.counter("veltrix.db.retries", "outcome", "retried").count();
    int[] attempts = {0};
    long revision =
        store.write(
            tx -> {
              var heads = tx.heads(List.of(dt("a"), dt("b")));
              if (attempts[0]++ == 0) {
                anotherPod(
                    "UPDATE revision_counter SET revision = revision + 1 WHERE id = 1", change);
              }
              return tx.append(List.of(next(dt("a"), heads), next(dt("b"), heads)), List.of())
                  .revision();
            });
    assertThat(revision).isEqualTo(3);
    assertThat(store.changes(2, 3, 10)).hasSize(2);
    assertThat(meters.counter("veltrix.db.retries", "outcome", "retried").count())
        .isEqualTo(retriedBefore + attempts[0] - 1);
    return attempts[0];
  }

  /** A reference to a retired document that appeared after the reads is caught. */
  @Test
  void aReferenceToARetiredDocumentThatAppearedAfterTheReadsIsCaughtByTheAppend() {
    write(Status.ACTIVE, dt("a"));
    int[] attempts = {0};
    Boolean retired =
        store.write(
            tx -> {
              var heads = tx.heads(List.of(dt("a")));
              var referrers = tx.referrers(List.of(dt("a")));
              if (attempts[0]++ == 0) {
                anotherPod(
                    "INSERT INTO document_references (ref_kind, ref_id, kind, id)"
                        + " VALUES ('DROP_TABLE', 'a', 'TREASURE_LOCATION', 'l')");
              }
              if (!referrers.isEmpty()) {
                tx.discard(); // still referenced: the retire is refused
                return false;
              }
              long version = heads.get(dt("a")).version() + 1;
              tx.append(
                  List.of(
                      new NewVersion(
                          document(dt("a"), version, 0, Status.RETIRED),
                          Optional.empty(),
                          Set.of())),
                  List.of());
              return true;
            });

    assertThat(attempts[0]).isEqualTo(2);
    assertThat(retired).isFalse();
    assertThat(store.latest(dt("a")).orElseThrow().status()).isEqualTo(Status.ACTIVE);
  }

  static NewVersion next(DocumentKey key, Map<DocumentKey, Head> heads) {
    long head = heads.containsKey(key) ? heads.get(key).version() : 0;
    return new NewVersion(document(key, head + 1, 0, Status.ACTIVE), Optional.empty(), Set.of());
  }

  /** Statements of another pod, committed on a connection of their own. */
  private void anotherPod(String... sql) {
    try (Connection own = dataSource.getConnection()) {
      own.setAutoCommit(true);
      try (Statement statement = own.createStatement()) {
        for (String s : sql) {
          statement.execute(s);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void everyCommittedTransactionTakesExactlyTheNextRevision() {
    assertThat(write(Status.ACTIVE, dt("a"), dt("b"))).isEqualTo(1);
    assertThat(write(Status.ACTIVE, dt("a"))).isEqualTo(2);
    assertThat(store.currentRevision()).isEqualTo(2);
  }

  /** The append commits: what it wrote stays, and a discard after it is refused. */
  @Test
  void anAppendCommitsAndNothingMayFollowIt() {
    store.write(
        tx -> {
          tx.append(
              List.of(
                  new NewVersion(
                      document(dt("a"), 1, 0, Status.ACTIVE), Optional.empty(), Set.of())),
              List.of());
          assertThatThrownBy(tx::discard).isInstanceOf(IllegalStateException.class);
          return null;
        });

    assertThat(store.currentRevision()).isEqualTo(1);
    assertThat(store.latest(dt("a"))).isPresent();
  }

  /** A group whose requests all failed their checks reads, then discards. */
  @Test
  void aDiscardedTransactionConsumesNoRevisionAndWritesNothing() {
    write(Status.ACTIVE, dt("a")); // r1
    store.write(
        tx -> {
          assertThat(tx.heads(List.of(dt("a"), dt("b")))).containsOnlyKeys(dt("a"));
          tx.discard();
          return null;
        });

    assertThat(store.currentRevision()).isEqualTo(1);
    assertThat(store.latest(dt("b"))).isEmpty();
  }

  /**
   * Several documents at a revision, of two kinds and the same id: each at the newest version it
   * had then, whether it changed since by one version, by more than the first window below the head
   * (8) or by none, retired then, or created after it.
   */
  @Test
  void readsSeveralDocumentsAtARevisionFromTheirHeadsAndTheVersionsBelow() {
    DocumentKey location = new DocumentKey(Kind.TREASURE_LOCATION, "x");
    DocumentKey table = dt("x");
    write(Status.ACTIVE, location, table, dt("still"), dt("retired")); // r1, every v1
    write(Status.ACTIVE, table); // r2: x v2
    long pinned = write(Status.RETIRED, dt("retired")); // r3: retired v2
    write(Status.ACTIVE, location); // r4: location v2
    for (int i = 0; i < 20; i++) {
      write(Status.ACTIVE, table); // r5-r24: table v3-v22
    }
    write(Status.ACTIVE, dt("later")); // r25

    Map<DocumentKey, Document> at = new HashMap<>();
    store
        .atRevision(
            List.of(location, table, dt("still"), dt("retired"), dt("later"), dt("never")), pinned)
        .forEach(d -> at.put(d.key(), d));

    assertThat(at.keySet()).containsExactlyInAnyOrder(location, table, dt("still"), dt("retired"));
    assertThat(at.get(location).version()).isEqualTo(1);
    assertThat(at.get(table).version()).isEqualTo(2);
    assertThat(at.get(table).payload()).isEqualTo("{\"v\":2}");
    assertThat(at.get(dt("still")).version()).isEqualTo(1);
    assertThat(at.get(dt("retired")).status()).isEqualTo(Status.RETIRED);
    assertThat(store.atRevision(List.of(table, location), 1))
        .extracting(Document::version)
        .containsExactly(1L, 1L);
  }

  @Test
  void readsAnyVersionAndTheStateAtARevision() {
    write(Status.ACTIVE, dt("a")); // r1
    write(Status.ACTIVE, dt("b")); // r2
    write(Status.RETIRED, dt("a")); // r3

    assertThat(store.latest(dt("a")).orElseThrow().status()).isEqualTo(Status.RETIRED);
    assertThat(store.atRevision(dt("a"), 2).orElseThrow().version()).isEqualTo(1);
    assertThat(store.atRevision(dt("b"), 1)).isEmpty();
    assertThat(
            store.versions(
                List.of(
                    new VersionRef(Kind.DROP_TABLE, "a", 2),
                    new VersionRef(Kind.DROP_TABLE, "b", 1),
                    new VersionRef(Kind.DROP_TABLE, "b", 7))))
        .extracting(Document::id, Document::version)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("a", 2L),
            org.assertj.core.groups.Tuple.tuple("b", 1L));
  }

  @Test
  void listingAtARevisionIgnoresEverythingWrittenAfterIt() {
    write(Status.ACTIVE, dt("a"), dt("b")); // r1
    write(Status.ACTIVE, dt("a")); // r2: a v2
    write(Status.ACTIVE, dt("c")); // r3
    write(Status.RETIRED, dt("b")); // r4

    ListFilter active =
        new ListFilter(Kind.DROP_TABLE, Optional.of(Status.ACTIVE), Optional.empty());
    assertThat(store.list(active, 1, "", 10))
        .extracting(Document::id, Document::version)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("a", 1L),
            org.assertj.core.groups.Tuple.tuple("b", 1L));
    assertThat(store.list(active, 4, "", 10)).extracting(Document::id).containsExactly("a", "c");
    assertThat(store.list(active, 4, "a", 10)).extracting(Document::id).containsExactly("c");
  }

  /**
   * Listings and manifests are served from the heads plus a lookup for heads that changed after the
   * pinned revision: paged at every revision of a random history in which documents move between
   * two zones (with small pages, so that pages are topped up past filtered-out heads), they must
   * equal the state computed from the history itself; filtered by zone or status, both through
   * their indexes and, when much was written since the pin, through every head of the kind. Then
   * again with every other revision's versions not saying what they replaced (written before V28).
   */
  @Test
  void listingsAndManifestsAtEveryRevisionMatchTheHistory() {
    java.util.Random random = new java.util.Random(42);
    // the status and zone of every document at each revision, computed from what was written
    List<Map<String, Map.Entry<Status, String>>> states = new java.util.ArrayList<>();
    states.add(new java.util.TreeMap<>());
    int revisions = 30;
    for (int r = 1; r <= revisions; r++) {
      java.util.Set<DocumentKey> keys = new java.util.LinkedHashSet<>();
      for (int i = 0; i < 12; i++) {
        if (random.nextInt(4) == 0) {
          keys.add(dt("d" + (char) ('a' + i)));
        }
      }
      keys.add(dt("d" + (char) ('a' + random.nextInt(12))));
      Status status = random.nextBoolean() ? Status.ACTIVE : Status.RETIRED;
      String zone = random.nextBoolean() ? "zone-a" : "zone-b";
      assertThat(writeIn(zone, status, keys.toArray(DocumentKey[]::new))).isEqualTo(r);
      Map<String, Map.Entry<Status, String>> state = new java.util.TreeMap<>(states.get(r - 1));
      keys.forEach(k -> state.put(k.id(), Map.entry(status, zone)));
      states.add(state);
    }
    assertEveryRevisionListed(states);
    // versions that do not say what they replaced, as a pod of a release before V28 wrote them
    // (or the migration found them), beside versions that do: such documents are looked up
    int forgotten =
        jdbc.sql(
                "UPDATE document_versions SET prior_revision = NULL, prior_status = NULL,"
                    + " prior_zone = NULL WHERE revision % 2 = 0 AND version > 1")
            .update();
    long recorded =
        jdbc.sql("SELECT count(*) FROM document_versions WHERE prior_status IS NOT NULL")
            .query(Long.class)
            .single();
    assertThat(forgotten).as("versions after a first whose record was removed").isPositive();
    assertThat(recorded).as("versions after a first that keep their record").isPositive();
    assertEveryRevisionListed(states);
  }

  /**
   * Lists and manifests the drop tables at every revision of {@code states} (each revision's status
   * and zone of every document) and checks each page against them.
   */
  private void assertEveryRevisionListed(List<Map<String, Map.Entry<Status, String>>> states) {
    int revisions = states.size() - 1;
    int changedUpTo = store.listings.filteredReadsChangedUpTo;
    try {
      for (int r = 0; r <= revisions; r++) {
        for (Optional<Status> status :
            List.of(
                Optional.<Status>empty(),
                Optional.of(Status.ACTIVE),
                Optional.of(Status.RETIRED))) {
          for (Optional<String> zone :
              List.of(Optional.<String>empty(), Optional.of("zone-a"), Optional.of("zone-b"))) {
            List<String> expected =
                states.get(r).entrySet().stream()
                    .filter(e -> status.map(s -> s == e.getValue().getKey()).orElse(true))
                    .filter(e -> zone.map(z -> z.equals(e.getValue().getValue())).orElse(true))
                    .map(Map.Entry::getKey)
                    .toList();
            store.listings.filteredReadsChangedUpTo = changedUpTo;
            assertListed(new ListFilter(Kind.DROP_TABLE, status, zone), r, expected, "");
            if (status.equals(Optional.of(Status.ACTIVE))) {
              assertThat(
                      store.manifest(Kind.DROP_TABLE, zone, r, "", 100).stream()
                          .map(ManifestEntry::id)
                          .toList())
                  .as("manifest at revision %d, zone %s", r, zone)
                  .isEqualTo(expected);
            }
            if (zone.isPresent() || status.isPresent()) {
              // every head by id, whenever anything was written after revision r
              store.listings.filteredReadsChangedUpTo = 0;
              assertListed(
                  new ListFilter(Kind.DROP_TABLE, status, zone), r, expected, ", heads by id");
            }
          }
        }
        assertThat(store.manifest(Kind.DROP_TABLE, Optional.of("elsewhere"), r, "", 100)).isEmpty();
      }
    } finally {
      store.listings.filteredReadsChangedUpTo = changedUpTo;
    }
  }

  /**
   * Each version records what it replaced, the revision, status and zone of its document's version
   * before it (nothing for a first version): what a listing filtered at a revision reads from the
   * feed instead of looking up each document written since.
   */
  @Test
  void eachVersionRecordsTheRevisionStatusAndZoneOfTheOneItReplaced() {
    long first = writeIn("zone-a", Status.ACTIVE, dt("p"));
    long moved = writeIn("zone-b", Status.ACTIVE, dt("p"));
    long retired = writeIn("zone-b", Status.RETIRED, dt("p"));
    writeIn("zone-c", Status.ACTIVE, dt("p"));

    assertThat(
            jdbc.sql(
                    "SELECT prior_revision, prior_status, prior_zone FROM document_versions"
                        + " WHERE kind = 'DROP_TABLE' AND id = 'p' ORDER BY version")
                .query(
                    (rs, n) ->
                        java.util.Arrays.asList(rs.getObject(1), rs.getString(2), rs.getString(3)))
                .list())
        .containsExactly(
            java.util.Arrays.asList(null, null, null),
            List.of(first, "ACTIVE", "zone-a"),
            List.of(moved, "ACTIVE", "zone-b"),
            List.of(retired, "RETIRED", "zone-b"));
  }

  /**
   * Documents written for the first time since a revision while filtered pages at that revision are
   * read (moved to another zone, or retired) are listed as they were at the revision, every time. A
   * filtered page reads the documents written since the revision and the matching heads from before
   * it; read in two statements, a document first written between them was in neither (its head was
   * newer than the revision, and the first read had not seen it) and went missing from its page.
   * Each round writes twelve documents into a zone of their own, then moves or retires each of them
   * once while its zone, the zone's ACTIVE and the kind's ACTIVE are listed at the round's
   * revision.
   */
  @Test
  void documentsWrittenWhileFilteredPagesAreReadAreListedAsTheyWereAtTheRevision()
      throws Exception {
    Map<String, Map.Entry<Status, String>> now = new java.util.TreeMap<>();
    var random = new java.util.Random(7);
    int whileWriting = 0; // listings begun before the round's writes were done
    for (int round = 0; round < 30; round++) {
      String zone = "zone-" + round;
      List<String> ids =
          java.util.stream.IntStream.range(10, 22).mapToObj(i -> zone + "-d" + i).toList();
      long revision =
          writeIn(
              zone,
              Status.ACTIVE,
              ids.stream().map(CatalogStoreContract::dt).toArray(DocumentKey[]::new));
      ids.forEach(id -> now.put(id, Map.entry(Status.ACTIVE, zone)));
      List<String> active =
          now.entrySet().stream()
              .filter(e -> e.getValue().getKey() == Status.ACTIVE)
              .map(Map.Entry::getKey)
              .toList();
      List<String> shuffled = new java.util.ArrayList<>(ids);
      java.util.Collections.shuffle(shuffled, random);
      List<Boolean> retire = shuffled.stream().map(id -> random.nextBoolean()).toList();
      var writer =
          java.util.concurrent.CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < shuffled.size(); i++) {
                  if (retire.get(i)) {
                    writeIn(zone, Status.RETIRED, dt(shuffled.get(i)));
                  } else {
                    writeIn("elsewhere", Status.ACTIVE, dt(shuffled.get(i)));
                  }
                }
              });
      do {
        for (var listing :
            List.of(
                Map.entry(
                    new ListFilter(Kind.DROP_TABLE, Optional.empty(), Optional.of(zone)), ids),
                Map.entry(
                    new ListFilter(Kind.DROP_TABLE, Optional.of(Status.ACTIVE), Optional.of(zone)),
                    ids),
                Map.entry(
                    new ListFilter(Kind.DROP_TABLE, Optional.of(Status.ACTIVE), Optional.empty()),
                    active))) {
          whileWriting += writer.isDone() ? 0 : 1;
          List<String> listed = new java.util.ArrayList<>();
          for (String after = ""; ; ) {
            List<Document> page = store.list(listing.getKey(), revision, after, 5);
            page.forEach(d -> listed.add(d.id()));
            if (page.size() < 5) {
              break;
            }
            after = page.get(4).id();
          }
          assertThat(listed)
              .as("%s at revision %d while its documents were written", listing.getKey(), revision)
              .isEqualTo(listing.getValue());
        }
      } while (!writer.isDone());
      writer.get();
      for (int i = 0; i < shuffled.size(); i++) {
        now.put(
            shuffled.get(i),
            retire.get(i)
                ? Map.entry(Status.RETIRED, zone)
                : Map.entry(Status.ACTIVE, "elsewhere"));
      }
    }
    assertThat(whileWriting)
        .as("listings begun while documents were written (at least each round's first)")
        .isGreaterThanOrEqualTo(30);
  }

  /** Pages of 1, 3 and 100 of {@code filter} at revision {@code r} list {@code expected}. */
  private void assertListed(ListFilter filter, long r, List<String> expected, String how) {
    for (int size : List.of(1, 3, 100)) {
      List<String> listed = new java.util.ArrayList<>();
      String after = "";
      while (true) {
        List<Document> page = store.list(filter, r, after, size);
        for (Document d : page) {
          assertThat(d.revision()).isLessThanOrEqualTo(r);
          listed.add(d.id());
        }
        if (page.size() < size) {
          break;
        }
        after = page.get(page.size() - 1).id();
      }
      assertThat(listed)
          .as("revision %d, %s, pages of %d%s", r, filter, size, how)
          .isEqualTo(expected);
    }
  }

  /**
   * Ids sort by their bytes: as CockroachDB compares {@code STRING}s, and as a watch orders a
   * revision's events when it sends them from memory (by {@code String.compareTo}). Upper case
   * comes before lower case and {@code '-'} before {@code '.'} and the digits, where a locale such
   * as {@code en_US} would put "a" before "B" and pass over the punctuation.
   */
  @Test
  void listingsAndTheFeedOrderIdsByTheirBytes() {
    List<String> ids = List.of("b", "B-2", "a.1", "a-1", "A", "0", "a1", "Z", "a-0");
    long revision =
        write(
            Status.ACTIVE, ids.stream().map(CatalogStoreContract::dt).toArray(DocumentKey[]::new));
    List<String> byBytes = ids.stream().sorted().toList();

    ListFilter all = new ListFilter(Kind.DROP_TABLE, Optional.empty(), Optional.empty());
    assertThat(store.list(all, revision, "", 100))
        .extracting(Document::id)
        .containsExactlyElementsOf(byBytes);
    assertThat(store.list(all, revision, "a-0", 3))
        .extracting(Document::id)
        .containsExactly("a-1", "a.1", "a1");
    assertThat(store.changes(0, revision, 100))
        .extracting(ChangeEvent::id)
        .containsExactlyElementsOf(byBytes);
  }

  @Test
  void changesComeInRevisionOrderAcrossShards() {
    for (int i = 0; i < 40; i++) {
      write(Status.ACTIVE, dt("doc-" + i));
    }

    List<ChangeEvent> all = store.changes(0, 40, 1000);
    List<ChangeEvent> window = store.changes(10, 20, 1000);

    assertThat(all).extracting(ChangeEvent::revision).containsExactlyElementsOf(range(1, 40));
    assertThat(window).extracting(ChangeEvent::revision).containsExactlyElementsOf(range(11, 20));
    assertThat(store.changes(0, 40, 5))
        .extracting(ChangeEvent::revision)
        .containsExactlyElementsOf(range(1, 5));
  }

  @Test
  void aChangePageKeepsARevisionWholeEvenWhenItIsLargerThanThePage() {
    write(Status.ACTIVE, dt("a"), dt("b"), dt("c"), dt("d"), dt("e")); // r1: five events
    write(Status.ACTIVE, dt("f")); // r2
    CatalogLimits small =
        new CatalogLimits(
            CatalogLimits.defaults().maxPayloadSize(),
            32,
            2,
            CatalogLimits.defaults().maxBatchSize(),
            1000,
            100);
    ConfigReader reader = new ConfigReader(store, small, new PageTokenSigner(new byte[32]));

    ChangePage page = reader.changes(0, OptionalInt.of(1), Set.of());

    assertThat(page.events()).hasSize(5);
    assertThat(page.revision()).isEqualTo(1);
    assertThat(reader.changes(1, OptionalInt.of(1), Set.of()).events()).hasSize(1);
  }

  @Test
  void keepsTheFirstIdempotencyRecord() {
    IdempotencyRecord first =
        new IdempotencyRecord(
            "k",
            "hash-1",
            3,
            List.of(new IdempotencyRecord.Result(Kind.DROP_TABLE, "a", 1, false)),
            Instant.now());
    IdempotencyRecord second = new IdempotencyRecord("k", "hash-2", 4, List.of(), Instant.now());

    store.saveIdempotencyRecordIfAbsent(first);
    store.saveIdempotencyRecordIfAbsent(second);

    IdempotencyRecord stored =
        store.write(
            tx -> {
              tx.discard();
              return tx.idempotencyRecords(List.of("k")).get("k");
            });
    assertThat(stored.requestHash()).isEqualTo("hash-1");
    assertThat(stored.results()).containsExactlyElementsOf(first.results());
    assertThat(
            jdbc.sql("SELECT results FROM idempotency_records WHERE idempotency_key = 'k'")
                .query(String.class)
                .single())
        .as("as stored before results could be rebasable: readable by an older pod")
        .isEqualTo("[{\"kind\":\"DROP_TABLE\",\"id\":\"a\",\"version\":1,\"unchanged\":false}]");
  }

  static List<Long> range(long from, long to) {
    return java.util.stream.LongStream.rangeClosed(from, to).boxed().toList();
  }
}
