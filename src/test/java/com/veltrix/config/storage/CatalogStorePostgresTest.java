package com.veltrix.config.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.catalog.CallContext;
import com.veltrix.config.catalog.CatalogStore.ListFilter;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.ManifestEntry;
import com.veltrix.config.catalog.Status;
import com.veltrix.config.catalog.StoreUnavailableException;
import com.veltrix.config.support.Await;
import com.veltrix.config.support.Sleep;
import com.veltrix.config.support.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The storage contract against the embedded PostgreSQL, plus writers meeting at the revision row.
 */
class CatalogStorePostgresTest extends CatalogStoreContract {

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
  }

  /**
   * The embedded PostgreSQL compares text by its bytes, as CockroachDB does, whatever the machine's
   * locale ({@code EmbeddedDatabases}); left to {@code LANG} it was {@code C.UTF-8} here.
   */
  @Test
  void theEmbeddedDatabaseComparesTextByItsBytes() {
    assertThat(
            jdbc.sql("SELECT datcollate FROM pg_database WHERE datname = current_database()")
                .query(String.class)
                .single())
        .isEqualTo("C");
  }

  /**
   * The heads are stored with room to spare on each page (V31, fillfactor 70), so a head rewritten
   * with its status and zone stays on its page, where PostgreSQL can update it without a new entry
   * in any of the table's three indexes (a heap-only update). Packed full, the default, each of
   * these rewrites moved to another page.
   */
  @Test
  void aRewrittenHeadStaysOnItsPage() {
    DocumentKey[] keys =
        IntStream.range(0, 300).mapToObj(i -> dt("page-" + i)).toArray(DocumentKey[]::new);
    write(Status.ACTIVE, keys);
    String firstPage = "SELECT id FROM documents WHERE (ctid::text::point)[0] = 0 ORDER BY id";
    List<String> onIt = jdbc.sql(firstPage).query(String.class).list();
    assertThat(onIt).hasSizeGreaterThan(10).hasSizeLessThan(keys.length);

    write(
        Status.ACTIVE,
        onIt.subList(0, 5).stream().map(CatalogStoreContract::dt).toArray(DocumentKey[]::new));

    assertThat(jdbc.sql(firstPage).query(String.class).list()).isEqualTo(onIt);
    assertThat(
            jdbc.sql("SELECT count(*) FROM documents WHERE version = 2 AND id = ANY(:ids)")
                .param("ids", onIt.subList(0, 5).toArray(String[]::new))
                .query(Integer.class)
                .single())
        .isEqualTo(5);
  }

  /**
   * The append of a write of one document is planned once per session, not at every write: its rows
   * come as subscripts of the parameter arrays ({@link ArrayRows}), whose row counts a generic plan
   * knows, and PostgreSQL keeps that plan after five executions. With the arrays unnested it
   * planned the statement again at every execution (0.51-0.58 ms of a write's ~1.2 ms of PostgreSQL
   * time, docs/performance.md), which the second half of this test shows.
   */
  @Test
  void theAppendOfOneDocumentIsPlannedOncePerSessionNotAtEveryWrite() throws SQLException {
    assertThat(plansOfAppends(true)).containsEntry("custom", 5L).containsEntry("generic", 5L);
    assertThat(plansOfAppends(false)).containsEntry("custom", 10L).containsEntry("generic", 0L);
  }

  /** Fourteen appends of a new document each, rolled back, on one session: how it planned them. */
  private Map<String, Long> plansOfAppends(boolean shaped) throws SQLException {
    // a session of its own: the pool's have prepared the store's appends already
    try (Connection c = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "")) {
      c.setAutoCommit(false);
      try {
        var session =
            new org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate(
                new org.springframework.jdbc.datasource.SingleConnectionDataSource(c, true));
        // as many heads as a catalogue has (rolled back with the rest): on a table of a few rows
        // PostgreSQL's generic plan of the unnested arrays wins too
        session.update(
            "INSERT INTO documents (kind, id, version, revision, status, content_hash)"
                + " SELECT 'DROP_TABLE', 'many-' || g, 1, 1, 'ACTIVE', md5(g::text)"
                + " FROM generate_series(1, 20000) AS g",
            Map.of());
        for (int i = 0; i < 14; i++) {
          var one = oneNewDocument("plan-" + shaped + "-" + i);
          String text =
              shaped
                  ? ArrayRows.of(JdbcWriteTransaction.APPEND).shaped(one)
                  : JdbcWriteTransaction.APPEND;
          assertThat(session.queryForList(text, one)).hasSize(1); // the revision advanced
        }
        return session
            .queryForMap(
                "SELECT custom_plans AS custom, generic_plans AS generic FROM pg_prepared_statements"
                    + " WHERE statement LIKE '%UPDATE revision_counter SET revision%'",
                Map.of())
            .entrySet()
            .stream()
            .collect(
                java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> (Long) e.getValue()));
      } finally {
        c.rollback();
      }
    }
  }

  /** The append's parameters for a write of one new document, with no key, retire or reference. */
  private static org.springframework.jdbc.core.namedparam.MapSqlParameterSource oneNewDocument(
      String id) {
    String[] none = {};
    var now = new java.sql.Timestamp[] {java.sql.Timestamp.from(java.time.Instant.now())};
    return new org.springframework.jdbc.core.namedparam.MapSqlParameterSource()
        .addValue("seenKinds", new String[] {"DROP_TABLE"})
        .addValue("seenIds", new String[] {id})
        .addValue("seenVersions", new Long[] {null})
        .addValue("rebaseHashes", new String[] {null})
        .addValue("retiredKinds", none)
        .addValue("retiredIds", none)
        .addValue("seenRefKinds", none)
        .addValue("seenRefIds", none)
        .addValue("seenReferrerKinds", none)
        .addValue("seenReferrerIds", none)
        .addValue("kinds", new String[] {"DROP_TABLE"})
        .addValue("ids", new String[] {id})
        .addValue("versions", new Long[] {1L})
        .addValue("statuses", new String[] {"ACTIVE"})
        .addValue("hashes", new String[] {"0".repeat(64)})
        .addValue("sizes", new Long[] {2L})
        .addValue("zones", new String[] {null})
        .addValue("payloads", new String[] {"{}"})
        .addValue("shards", new Long[] {(long) JdbcCatalogStore.shardOf(Kind.DROP_TABLE, id)})
        .addValue("updatedAts", now)
        .addValue("updatedBys", new String[] {"plan-test"})
        .addValue("requestIds", new String[] {"req-" + id})
        .addValue("recordKeys", none)
        .addValue("recordHashes", none)
        .addValue("recordResults", none)
        .addValue("recordCreatedAts", new java.sql.Timestamp[0]);
  }

  /**
   * A retry after a lost commit reply reads the versions its earlier attempts appended with {@code
   * versions}, a lookup by primary key: on a document with 2,000 versions it reads one row. It used
   * to read the document's whole history with a statement of its own, which after a cut, on a new
   * session, took 50 ms and more for a document with 5,000 versions, and the retry ran out of its
   * budget on it.
   */
  @Test
  void aRetryLooksForItsLostCommitByPrimaryKeyNotThroughTheDocumentsHistory() throws Exception {
    write(Status.ACTIVE, dt("h"));
    insertVersions(
            """
            SELECT kind, id, g, revision, status, content_hash, size_bytes, zone, payload,
                   shard, updated_at, updated_by, 'req-' || g
              FROM document_versions, generate_series(2, 2000) AS g
             WHERE kind = 'DROP_TABLE' AND id = 'h'
            """)
        .update();
    jdbc.sql("ANALYZE document_versions").update();
    VersionRef appended = new VersionRef(Kind.DROP_TABLE, "h", 1500);

    List<Document> found =
        store.write(
            tx -> {
              List<Document> versions = tx.versions(List.of(appended));
              tx.discard();
              return versions;
            });
    JsonNode plan =
        explain(
            DocumentRows.VERSIONS,
            Map.of(
                "kinds",
                new String[] {"DROP_TABLE"},
                "ids",
                new String[] {"h"},
                "versions",
                new Long[] {1500L}));

    assertThat(found).extracting(Document::requestId).containsExactly("req-1500");
    assertThat(rowsRead(plan, "document_versions"))
        .as("rows of document_versions the lookup read: %s", plan)
        .isEqualTo(1);
  }

  /**
   * Reading the records of keyed writes that may have been rebased: for each marked result, the
   * version its document got at the record's revision. 1,000 results over 1,000 documents of 20
   * versions each, all stored at version 10; 990 planned there, 10 planned at 9 (rebased): every
   * one is found at 10, and the rebased ones by ranges of the primary key, which read those
   * documents' versions from 9 on (12 each), not the table's 20,000.
   */
  @Test
  void theVersionsOfKeyedWritesThatMayHaveBeenRebasedAreFoundByPrimaryKey() throws Exception {
    insertVersions(
            """
            SELECT 'DROP_TABLE', 'd-' || d, v, v * 1000 + d, 'ACTIVE', 'h', 2, NULL, '{}', 0,
                   now(), 'bench', 'r'
              FROM generate_series(1, 1000) AS d, generate_series(1, 20) AS v
            """)
        .update();
    jdbc.sql("ANALYZE document_versions").update();
    List<DocumentRows.StoredAt> planned = new ArrayList<>();
    for (int d = 1; d <= 1000; d++) {
      long version = d <= 10 ? 9 : 10;
      planned.add(
          new DocumentRows.StoredAt(
              new VersionRef(Kind.DROP_TABLE, "d-" + d, version), 10L * 1000 + d));
    }

    Map<DocumentRows.StoredAt, Long> stored = DocumentRows.versionsStoredAt(jdbc, planned);

    assertThat(stored).hasSize(1000);
    assertThat(stored.values()).containsOnly(10L);
    JsonNode plan =
        explain(
            DocumentRows.VERSIONS_STORED_AFTER_PLANNED,
            Map.of(
                "kinds",
                Collections.nCopies(10, "DROP_TABLE").toArray(String[]::new),
                "ids",
                IntStream.rangeClosed(1, 10).mapToObj(d -> "d-" + d).toArray(String[]::new),
                "versions",
                Collections.nCopies(10, 9L).toArray(Long[]::new),
                "revisions",
                IntStream.rangeClosed(1, 10).mapToObj(d -> 10L * 1000 + d).toArray(Long[]::new)));
    assertThat(rowsRead(plan, "document_versions"))
        .as("rows of document_versions the ranges read: %s", plan)
        .isLessThanOrEqualTo(12 * 10);
  }

  /**
   * A manifest pinned at a revision, over 100 documents of 2,000 versions each that all changed
   * since, and two created since: each changed head is resolved from the versions just below it,
   * looked up by primary key, not from its whole history. Pinned 2 and 50 writes back (the two
   * windows) it reads the candidates' rows only: 8 a document in the first window (800, not
   * 200,000), and the second window's 6,400 as lookups too, in branches of 1,000 (asked in one
   * branch, PostgreSQL hash-joined the whole table). Pinned 300 and 1,000 back, beyond the windows,
   * probes spread over the versions below them find it (far more pins in {@link
   * #aManifestPinnedFarBehindHotDocumentsFindsEachStateWithAndWithoutPrunedHistory}). A page of
   * {@code id(0)} starts at the first document.
   */
  @Test
  void aManifestPinnedAFewWritesBackReadsAFewVersionsOfEachChangedDocument() throws Exception {
    int versions = Integer.getInteger("resolve.versions", 2000);
    insertVersions(
            """
            SELECT 'DROP_TABLE', 'd-' || lpad(d::text, 3, '0'), v, v * 1000 + d, 'ACTIVE', 'h',
                   2, NULL, '{}', 0, now(), 'bench', 'r'
              FROM generate_series(1, 100) AS d, generate_series(1, :versions) AS v
            """)
        .param("versions", versions)
        .update();
    insertVersions(
            """
            SELECT 'DROP_TABLE', 'new', v, (:versions - 1) * 1000 + 500 + v, 'ACTIVE', 'h', 2,
                   NULL, '{}', 0, now(), 'bench', 'r'
              FROM generate_series(1, 3) AS v
            UNION ALL
            SELECT 'DROP_TABLE', 'newer', 1, (:versions - 1) * 1000 + 600, 'ACTIVE', 'h', 2,
                   NULL, '{}', 0, now(), 'bench', 'r'
            """)
        .param("versions", versions)
        .update();
    headsOfTheVersions();

    JsonNode first = candidatesPlan(versions, 8, 2);
    JsonNode second = candidatesPlan(versions, 64, 50);
    System.out.printf(
        "RESOLVE statements: first window %.1f ms, %d rows read; second %.1f ms, %d rows read%n",
        first.get(0).path("Execution Time").asDouble(),
        rowsRead(first, "document_versions"),
        second.get(0).path("Execution Time").asDouble(),
        rowsRead(second, "document_versions"));
    assertThat(rowsRead(first, "document_versions"))
        .as("rows of document_versions the first window read: %s", first)
        .isEqualTo(800);
    assertThat(rowsRead(second, "document_versions"))
        .as("rows of document_versions the second window read: %s", second)
        .isEqualTo(6400);
    // pinned back, the page's first id and its size: beyond the two windows, probes spread over
    // the versions below them
    int[][] cases = {{2, 1, 100}, {50, 1, 100}, {300, 91, 10}, {1000, 100, 1}};
    for (int[] at : cases) {
      int back = at[0];
      long pinned = (versions - back) * 1000L + 100;
      long started = System.nanoTime();
      List<ManifestEntry> manifest =
          store.manifest(Kind.DROP_TABLE, Optional.empty(), pinned, id(at[1] - 1), at[2]);
      System.out.printf(
          "RESOLVE %d documents of %d versions, pinned %d back: %.1f ms%n",
          manifest.size(), versions, back, (System.nanoTime() - started) / 1e6);
      assertThat(manifest)
          .as("pinned %d writes back", back)
          .hasSize(at[2])
          .extracting(ManifestEntry::version)
          .containsOnly((long) versions - back);
    }
    List<DocumentKey> keys =
        IntStream.rangeClosed(1, 100)
            .mapToObj(d -> new DocumentKey(Kind.DROP_TABLE, id(d)))
            .toList();
    long started = System.nanoTime();
    List<Document> read = store.atRevision(keys, (versions - 2) * 1000L + 100);
    System.out.printf(
        "RESOLVE a read of 100 documents of %d versions at 2 back: %.1f ms%n",
        versions, (System.nanoTime() - started) / 1e6);
    assertThat(read).hasSize(100).extracting(Document::version).containsOnly(versions - 2L);
    assertThat(
            store.manifest(
                Kind.DROP_TABLE, Optional.empty(), (versions - 2) * 1000L + 100, id(100), 10))
        .as("documents created after the revision, one of them with one version")
        .isEmpty();
    assertThat(
            store.manifest(
                Kind.DROP_TABLE, Optional.empty(), (versions - 2) * 1000L + 100, "new", 10))
        .as("a page of one document created after the revision, with one version: no candidates")
        .isEmpty();
  }

  /**
   * Pinned far behind hot documents: 100 documents with 50 to 5,000 versions (document {@code d}
   * has {@code 50 d}, version {@code v} at revision {@code 1000 v + d}), read at revisions from
   * before the first version to ten writes behind the busiest head, then again after the versions
   * below a horizon were pruned as retention prunes them. Every document's state is the one its
   * history says; the figures printed are the time of each manifest page and read.
   */
  @Test
  void aManifestPinnedFarBehindHotDocumentsFindsEachStateWithAndWithoutPrunedHistory() {
    insertVersions(
            """
            SELECT 'DROP_TABLE', 'p-' || lpad(d::text, 3, '0'), v, v * 1000 + d, 'ACTIVE', 'h',
                   2, NULL, '{}', 0, now(), 'bench', 'r'
              FROM generate_series(1, 100) AS d, generate_series(1, 50 * d) AS v
            """)
        .update();
    headsOfTheVersions();

    int[] pins = {0, 1, 37, 700, 2_500, 4_990};
    for (int pin : pins) {
      assertStatesAt(pin, "");
    }
    // retention at a horizon of revision 1000 * 1000 + 100: a version goes once its successor was
    // written at or before it, so each document keeps the one that was its state there
    jdbc.sql("DELETE FROM document_versions WHERE version < LEAST(1000, 50 * (revision % 1000))")
        .update();
    jdbc.sql("ANALYZE document_versions").update();
    for (int pin : new int[] {1_000, 1_001, 3_000}) {
      assertStatesAt(pin, ", history pruned below version 1,000");
    }
  }

  /**
   * A manifest, a read of all 100 and a read of the last alone at revision {@code 1000 pin + 100}:
   * each document at version {@code pin}, or its head if it has fewer.
   */
  private void assertStatesAt(int pin, String what) {
    long revision = pin * 1000L + 100;
    List<Long> expected =
        IntStream.rangeClosed(1, 100)
            .filter(d -> pin > 0)
            .mapToObj(d -> (long) Math.min(pin, 50 * d))
            .toList();
    long started = System.nanoTime();
    List<ManifestEntry> manifest =
        store.manifest(Kind.DROP_TABLE, Optional.empty(), revision, "p-", 100);
    long listed = System.nanoTime();
    List<DocumentKey> keys =
        IntStream.rangeClosed(1, 100)
            .mapToObj(d -> new DocumentKey(Kind.DROP_TABLE, String.format("p-%03d", d)))
            .toList();
    List<Document> read = store.atRevision(keys, revision);
    long done = System.nanoTime();
    System.out.printf(
        "PROBE pinned at version %d%s: manifest %.1f ms, read %.1f ms%n",
        pin, what, (listed - started) / 1e6, (done - listed) / 1e6);
    assertThat(manifest)
        .as("manifest at version %d%s", pin, what)
        .extracting(ManifestEntry::version)
        .containsExactlyElementsOf(expected);
    assertThat(read)
        .as("read at version %d%s", pin, what)
        .extracting(Document::version)
        .containsExactlyInAnyOrderElementsOf(expected);
    assertThat(store.atRevision(keys.get(99), revision).map(Document::version))
        .as("a read of the document of 5,000 versions alone at version %d%s", pin, what)
        .isEqualTo(pin > 0 ? Optional.of((long) pin) : Optional.empty());
  }

  /**
   * A listing filtered by zone reads that zone's heads (the index {@code documents_by_zone}) and
   * the heads written since its revision, not every head of the kind: 50,000 treasure locations in
   * 50 zones, their ids grouped by zone, then 500 of them moved into the last zone. Listed at the
   * revision before the moves and after them, the last zone's pages hold what the history says, and
   * a page reads the page's heads and the moved ones from {@code documents}; the listing by id that
   * served it before read every head of the kind before the zone's ids (50,000 rows).
   */
  @Test
  void aZonesListingReadsThatZonesHeadsAndTheChangedOnesNotTheKinds() throws Exception {
    insertVersions(
            LOCATIONS_IN_50_ZONES
                + """
            UNION ALL
            SELECT 'TREASURE_LOCATION', 'z' || lpad((d % 50)::text, 2, '0') || '-' || lpad(d::text, 6, '0'),
                   2, 50000 + d, 'ACTIVE', 'h', 2, 'zone-49', '{}', d % 16, now(), 'bench', 'r'
              FROM generate_series(1, 500) AS d
            """)
        .update();
    headsOfTheVersions();
    List<String> before =
        IntStream.rangeClosed(1, 50000)
            .filter(d -> d % 50 == 49)
            .mapToObj(CatalogStorePostgresTest::locationId)
            .sorted()
            .toList();
    List<String> after =
        IntStream.rangeClosed(1, 50000)
            .filter(d -> d % 50 == 49 || d <= 500)
            .mapToObj(CatalogStorePostgresTest::locationId)
            .sorted()
            .toList();
    ListFilter zone49 =
        new ListFilter(Kind.TREASURE_LOCATION, Optional.of(Status.ACTIVE), Optional.of("zone-49"));

    int changedUpTo = store.listings.filteredReadsChangedUpTo;
    for (int[] at : new int[][] {{50000, 0}, {50500, 1}, {50000, 0}, {50500, 1}, {50000, 2}}) {
      // the last: every head by id, as before the zone's index (timed, for comparison; with a
      // limit of 0 that path answers whenever anything was written since the revision)
      store.listings.filteredReadsChangedUpTo = at[1] == 2 ? 0 : changedUpTo;
      List<String> listed = new ArrayList<>();
      long started = System.nanoTime();
      int pages = 0;
      long first = 0;
      for (String last = ""; ; pages++) {
        List<Document> page = store.list(zone49, at[0], last, 100);
        first = first == 0 ? System.nanoTime() - started : first;
        page.forEach(d -> listed.add(d.id()));
        if (page.size() < 100) {
          break;
        }
        last = page.get(99).id();
      }
      System.out.printf(
          "ZONE listing of zone-49 at revision %d%s: first page %.1f ms, %d documents in %d"
              + " pages %.1f ms%n",
          at[0],
          at[1] == 2 ? ", every head by id" : "",
          first / 1e6,
          listed.size(),
          pages + 1,
          (System.nanoTime() - started) / 1e6);
      store.listings.filteredReadsChangedUpTo = changedUpTo;
      assertThat(listed).as("zone-49 at revision %d", at[0]).isEqualTo(at[1] == 1 ? after : before);
    }
    JsonNode plan = filteredPagePlan(zone49, 50000, "", 100, store.listings.perShard());
    // heads: the page's and the moved ones' (newer than the revision, passed over in the index);
    // versions: the feed's 500, the moved documents' versions then, the page's heads' versions
    assertThat(rowsRead(plan, "documents"))
        .as("heads a page of zone-49 read at revision 50,000, 500 moved since: %s", plan)
        .isLessThanOrEqualTo(100 + 500);
    assertThat(rowsRead(plan, "document_versions"))
        .as("versions a page of zone-49 read at revision 50,000, 500 moved since: %s", plan)
        .isLessThanOrEqualTo(500 + 500 + 100);
    // past the share of the feed a page may look through (here none), the page is read by id: the
    // statement reads the feed's first row of each shard and none of the page
    JsonNode overflowing = filteredPagePlan(zone49, 50000, "", 100, 0);
    assertThat(rowsRead(overflowing, "documents"))
        .as("heads read by a page that overflowed: %s", overflowing)
        .isZero();
    assertThat(rowsRead(overflowing, "document_versions"))
        .as("versions read by a page that overflowed: %s", overflowing)
        .isLessThanOrEqualTo(JdbcCatalogStore.SHARDS);
  }

  /**
   * A page filtered at a revision behind many writes looks up its own documents only: 50,000
   * treasure locations in 50 zones (ids grouped by zone), then 5,000 of them written again, in
   * every zone. A page of ten of the 26th zone at the revision before reads the feed's 5,000 rows,
   * whose versions say what each document was then (V28), and looks up ten heads' and ten changed
   * documents' versions; without that record it looked up every document written since whose id
   * comes before the zone's (2,500 here), and ordered by id only after looking up every match (all
   * 5,000 for a page of the kind's ACTIVE).
   */
  @Test
  void aPagePinnedBehindManyWritesLooksUpItsOwnDocumentsOnly() throws Exception {
    insertVersions(LOCATIONS_IN_50_ZONES).update();
    jdbc.sql(
            """
            INSERT INTO document_versions (kind, id, version, revision, status, content_hash,
                   size_bytes, zone, payload, shard, updated_at, updated_by, request_id,
                   prior_revision, prior_status, prior_zone)
            SELECT 'TREASURE_LOCATION', 'z' || lpad((d % 50)::text, 2, '0') || '-' || lpad(d::text, 6, '0'),
                   2, 50000 + d, 'ACTIVE', 'h2', 2, 'zone-' || (d % 50), '{}', d % 16, now(), 'bench',
                   'r', d, 'ACTIVE', 'zone-' || (d % 50)
              FROM generate_series(1, 5000) AS d
            """)
        .update();
    headsOfTheVersions();
    ListFilter zone25 =
        new ListFilter(Kind.TREASURE_LOCATION, Optional.of(Status.ACTIVE), Optional.of("zone-25"));
    ListFilter active =
        new ListFilter(Kind.TREASURE_LOCATION, Optional.of(Status.ACTIVE), Optional.empty());
    for (ListFilter filter : List.of(zone25, active)) {
      List<String> expected =
          IntStream.rangeClosed(1, 50000)
              .filter(d -> filter.zone().isEmpty() || d % 50 == 25)
              .mapToObj(CatalogStorePostgresTest::locationId)
              .sorted()
              .limit(10)
              .toList();
      assertThat(store.list(filter, 50000, "", 10)).extracting(Document::id).isEqualTo(expected);
      JsonNode plan = filteredPagePlan(filter, 50000, "", 10, store.listings.perShard());
      assertThat(rowsRead(plan, "document_versions"))
          .as("versions read by a page of ten of %s behind 5,000 writes: %s", filter, plan)
          .isLessThanOrEqualTo(5000 + 10 + 10);
    }
  }

  /**
   * A head whose zone is not its version's (written by a pod of a release before V24, which kept
   * the zone on the version only) is not listed in the head's zone, and the documents after it in
   * that zone still are: the page is read by id, which checks each version's zone and tops the page
   * up past it.
   */
  @Test
  void aHeadWithAStaleZoneIsNotListedInItAndDoesNotCutTheZonesPages() {
    writeIn("zone-b", Status.ACTIVE, dt("b1"), dt("b2"), dt("b3"), dt("b4"));
    long revision = writeIn("zone-a", Status.ACTIVE, dt("b2-moved"));
    jdbc.sql("UPDATE documents SET zone = 'zone-b' WHERE id = 'b2-moved'").update();

    for (ListFilter zoneB :
        List.of(
            new ListFilter(Kind.DROP_TABLE, Optional.empty(), Optional.of("zone-b")),
            new ListFilter(Kind.DROP_TABLE, Optional.of(Status.ACTIVE), Optional.of("zone-b")))) {
      for (int size : List.of(1, 2, 3, 100)) {
        List<String> listed = new ArrayList<>();
        for (String after = ""; ; ) {
          List<Document> page = store.list(zoneB, revision, after, size);
          page.forEach(d -> listed.add(d.id()));
          if (page.size() < size) {
            break;
          }
          after = page.get(size - 1).id();
        }
        assertThat(listed)
            .as("%s in pages of %d", zoneB, size)
            .containsExactly("b1", "b2", "b3", "b4");
      }
    }
  }

  /**
   * A page looks each of its heads' current version up by primary key and reads no other version:
   * not every version of a kind of small documents (PostgreSQL hash-joined the whole table there),
   * nor every version of a document with a long history (it merge-joined the page's heads with the
   * versions' primary key, which reads all of a document's versions to reach its current one).
   */
  @Test
  void aPageReadsTheVersionOfEachHeadAndNoOther() throws Exception {
    insertVersions(
            """
            SELECT 'TREASURE_LOCATION', 'x-' || lpad(d::text, 6, '0'),
                   1, d, 'ACTIVE', 'h', 2, 'zone-0', '{}', d % 16, now(), 'bench', 'r'
              FROM generate_series(1, 100000) AS d
            """)
        .update();
    headsOfTheVersions();
    assertPagesReadOneVersionPerHead("a kind of 100,000 small documents, one version each");

    insertVersions(
            """
            SELECT 'TREASURE_LOCATION', 'x-050500', v, 100000 + v, 'ACTIVE', 'h', 2, 'zone-0',
                   '{}', 0, now(), 'bench', 'r'
              FROM generate_series(2, 100001) AS v
            """)
        .update();
    jdbc.sql(
            "UPDATE documents SET version = 100001, revision = 200001"
                + " WHERE kind = 'TREASURE_LOCATION' AND id = 'x-050500'")
        .update();
    jdbc.sql("ANALYZE document_versions").update();
    jdbc.sql("ANALYZE documents").update();
    assertPagesReadOneVersionPerHead("a page holding a document of 100,001 versions");
    Document hot =
        store
            .list(
                new ListFilter(Kind.TREASURE_LOCATION, Optional.empty(), Optional.empty()),
                200001,
                "x-050499",
                1)
            .get(0);
    assertThat(hot.id()).isEqualTo("x-050500");
    assertThat(hot.version()).isEqualTo(100001);
  }

  /** Both ways a page is read, from the middle of the kind, at its newest revision. */
  private void assertPagesReadOneVersionPerHead(String data) throws Exception {
    ListFilter zone =
        new ListFilter(Kind.TREASURE_LOCATION, Optional.of(Status.ACTIVE), Optional.of("zone-0"));
    ListFilter all = new ListFilter(Kind.TREASURE_LOCATION, Optional.empty(), Optional.empty());
    JsonNode byId =
        explain(
            "SELECT d.revision AS head_revision, "
                + StatesAtRevision.COLUMNS
                + "v.payload"
                + Listings.HEADS_AT_REVISION,
            Listings.pageParams(all, 200001, "x-050000", 1000));
    assertThat(rowsRead(byId, "document_versions"))
        .as("versions a page by id read, %s: %s", data, byId)
        .isLessThanOrEqualTo(1000);
    JsonNode ofZone = filteredPagePlan(zone, 200001, "x-050000", 1000, store.listings.perShard());
    assertThat(rowsRead(ofZone, "document_versions"))
        .as("versions a page of the zone read, %s: %s", data, ofZone)
        .isLessThanOrEqualTo(1000);
  }

  /**
   * A kind whose documents come and go gathers retired heads (a head is kept forever): 50,000 drop
   * tables of which all but 200 were retired. Its manifest of the ACTIVE reads them through {@code
   * documents_by_status}, not past the 49,800 retired heads; pinned 100 retirements back it lists
   * those 100 as well.
   */
  @Test
  void aManifestOfAKindOfMostlyRetiredDocumentsReadsTheActiveOnes() throws Exception {
    jdbc.sql(
            """
            INSERT INTO document_versions
                (kind, id, version, revision, status, content_hash, size_bytes, zone, payload,
                 shard, updated_at, updated_by, request_id)
            SELECT 'DROP_TABLE', 'dt-' || lpad(d::text, 5, '0'), 1, d, 'ACTIVE', 'h', 2, NULL,
                   '{}', d % 16, now(), 'bench', 'r'
              FROM generate_series(1, 50000) AS d
            UNION ALL
            SELECT 'DROP_TABLE', 'dt-' || lpad(d::text, 5, '0'), 2, 50000 + d, 'RETIRED', 'h', 2,
                   NULL, '{}', d % 16, now(), 'bench', 'r'
              FROM generate_series(201, 50000) AS d
            """)
        .update();
    headsOfTheVersions();

    int changedUpTo = store.listings.filteredReadsChangedUpTo;
    for (int[] at :
        new int[][] {{100000, 200}, {99900, 300}, {100000, 200}, {99900, 300}, {99900, 300, 0}}) {
      // the last: every head by id, as before the index (timed, for comparison; with a limit of
      // 0 that path answers whenever anything was written since the revision)
      store.listings.filteredReadsChangedUpTo = at.length > 2 ? 0 : changedUpTo;
      List<String> listed = new ArrayList<>();
      long started = System.nanoTime();
      for (String last = ""; ; ) {
        List<ManifestEntry> page =
            store.manifest(Kind.DROP_TABLE, Optional.empty(), at[0], last, 100);
        page.forEach(e -> listed.add(e.id()));
        if (page.size() < 100) {
          break;
        }
        last = page.get(99).id();
      }
      System.out.printf(
          "STATUS manifest of the ACTIVE at revision %d%s: %d documents, %.1f ms%n",
          at[0],
          at.length > 2 ? ", every head by id" : "",
          listed.size(),
          (System.nanoTime() - started) / 1e6);
      store.listings.filteredReadsChangedUpTo = changedUpTo;
      assertThat(listed)
          .as("the ACTIVE at revision %d", at[0])
          .hasSize(at[1])
          .isEqualTo(
              IntStream.rangeClosed(1, 50000)
                  .filter(d -> d <= 200 || 50000 + d > at[0]) // retired after the revision
                  .mapToObj(d -> String.format("dt-%05d", d))
                  .toList());
    }
    ListFilter active =
        new ListFilter(Kind.DROP_TABLE, Optional.of(Status.ACTIVE), Optional.empty());
    JsonNode plan =
        explain(
            Listings.filteredStatesAtRevision(
                StatesAtRevision.COLUMNS + "CAST('' AS TEXT) AS payload", active),
            Listings.filteredParams(active, 100000, "dt-00200", 100, store.listings.perShard()));
    assertThat(rowsRead(plan, "documents"))
        .as("heads read for the page after the last ACTIVE: %s", plan)
        .isZero();
  }

  private static String locationId(int d) {
    return String.format("z%02d-%06d", d % 50, d);
  }

  /**
   * 50,000 treasure locations in 50 zones, their ids grouped by zone ({@link #locationId}), at
   * version 1 and revisions 1 to 50,000: rows for {@link #insertVersions}.
   */
  private static final String LOCATIONS_IN_50_ZONES =
      """
      SELECT 'TREASURE_LOCATION', 'z' || lpad((d % 50)::text, 2, '0') || '-' || lpad(d::text, 6, '0'),
             1, d, 'ACTIVE', 'h', 2, 'zone-' || (d % 50), '{}', d % 16, now(), 'bench', 'r'
        FROM generate_series(1, 50000) AS d
      """;

  /** Rows of {@code document_versions}, every column in table order, from {@code select}. */
  private JdbcClient.StatementSpec insertVersions(String select) {
    return jdbc.sql(
        "INSERT INTO document_versions (kind, id, version, revision, status, content_hash,"
            + " size_bytes, zone, payload, shard, updated_at, updated_by, request_id) "
            + select);
  }

  /** Each document's newest version as its head, and both tables analysed. */
  private void headsOfTheVersions() {
    jdbc.sql(
            """
            INSERT INTO documents (kind, id, version, revision, status, content_hash, zone)
            SELECT DISTINCT ON (kind, id) kind, id, version, revision, status, content_hash, zone
              FROM document_versions ORDER BY kind, id, version DESC
            """)
        .update();
    jdbc.sql("ANALYZE document_versions").update();
    jdbc.sql("ANALYZE documents").update();
  }

  private static String id(int d) {
    return String.format("d-%03d", d);
  }

  /**
   * The plan of a window of {@code window} versions of each of the 100 documents, from {@code back}
   * below the head {@code head} down, at the revision of that version.
   */
  private JsonNode candidatesPlan(int head, int window, int back) throws Exception {
    List<VersionRef> candidates = new ArrayList<>();
    for (int d = 1; d <= 100; d++) {
      for (int i = 1; i <= window; i++) {
        candidates.add(new VersionRef(Kind.DROP_TABLE, id(d), head - back + 1 - i));
      }
    }
    DocumentRows.Statement statement =
        DocumentRows.candidatesAtRevision(
            "v.kind, v.id, v.version", candidates, (head - back) * 1000L + 100);
    return explain(statement.sql(), statement.params());
  }

  /** The plan of a filtered page ({@link Listings#filteredStatesAtRevision}) with payloads. */
  private JsonNode filteredPagePlan(
      ListFilter filter, long revision, String afterId, int limit, int perShard) throws Exception {
    return explain(
        Listings.filteredStatesAtRevision(StatesAtRevision.COLUMNS + "v.payload", filter),
        Listings.filteredParams(filter, revision, afterId, limit, perShard));
  }

  /** The plan PostgreSQL ran {@code sql} with, as EXPLAIN (ANALYZE, FORMAT JSON) gives it. */
  private JsonNode explain(String sql, Map<String, Object> params) throws Exception {
    var statement = jdbc.sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql);
    params.forEach(statement::param);
    return new ObjectMapper().readTree(statement.query(String.class).single());
  }

  /**
   * Rows a plan read from {@code table}: those its scans returned and those their filters dropped.
   */
  private static long rowsRead(JsonNode node, String table) {
    long rows = 0;
    if (table.equals(node.path("Relation Name").asText())) {
      rows +=
          (node.path("Actual Rows").asLong() + node.path("Rows Removed by Filter").asLong())
              * node.path("Actual Loops").asLong(1);
    }
    for (JsonNode child : node) {
      if (child.isContainerNode()) {
        rows += rowsRead(child, table);
      }
    }
    return rows;
  }

  /**
   * Another writer (another pod) holds the revision row: ours queues on it ({@code SELECT ... FOR
   * UPDATE} at READ COMMITTED) and, when the holder commits, takes the row and commits on its first
   * attempt, with checks that see what the holder wrote. At SERIALIZABLE PostgreSQL failed every
   * such waiter with 40001, and the waiter ran again from its reads.
   */
  @Test
  void aWriterQueuedOnTheRevisionRowCommitsWhenTheHolderDoesWithoutARetry() throws Exception {
    double retriesBefore = retried();
    assertThat(whileAnotherWriterHoldsTheRevisionRow(() -> write(Status.ACTIVE, dt("a")), () -> {}))
        .isEqualTo(2);
    assertThat(retried()).as("no attempt ran again").isEqualTo(retriesBefore);
    assertThat(store.changes(0, 2, 10)).hasSize(1);
  }

  /**
   * The holder our writer queued behind moved a head our writer had read: once it has the row, the
   * append's checks see that commit (their snapshot is taken after the lock), write nothing, and
   * the attempt runs again with fresh reads. A snapshot taken before the wait would have let the
   * append overwrite the holder's version.
   */
  @Test
  void aWriterQueuedBehindAHolderThatMovedItsHeadReadsAgain() throws Exception {
    write(Status.ACTIVE, dt("c")); // r1, version 1
    List<Long> headsRead = new CopyOnWriteArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    try (Connection other = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "")) {
      other.setAutoCommit(false);
      long revision =
          CallContext.call(
              deadline,
              () ->
                  store.write(
                      tx -> {
                        var heads = tx.heads(List.of(dt("c")));
                        headsRead.add(heads.get(dt("c")).version());
                        if (headsRead.size() == 1) { // another pod's writer takes the row first
                          holdTheRowAndMoveTheHead(other, "c");
                          CompletableFuture.runAsync(
                              () -> {
                                awaitWriterBlockedOnTheRevisionRow();
                                commit(other);
                              });
                        }
                        return tx.append(List.of(next(dt("c"), heads)), List.of()).revision();
                      }));
      assertThat(headsRead).as("read again after the holder committed").containsExactly(1L, 2L);
      assertThat(revision).isEqualTo(3);
      assertThat(store.latest(dt("c")).orElseThrow().version()).isEqualTo(3);
    }
  }

  private static void holdTheRowAndMoveTheHead(Connection other, String id) {
    try (Statement s = other.createStatement()) {
      s.executeUpdate("UPDATE revision_counter SET revision = revision + 1 WHERE id = 1");
      s.executeUpdate(
          "UPDATE documents SET version = version + 1 WHERE kind = 'DROP_TABLE' AND id = '"
              + id
              + "'");
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void commit(Connection other) {
    try {
      other.commit();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A wait on the revision row that outlasts the session's lock_timeout ends as 55P03 and the write
   * runs again within its deadline; the retry knows the attempt before it wrote nothing, so it need
   * not look for versions an earlier attempt stamped (one round trip saved per contended retry).
   */
  @Test
  void aLockWaitCutByTheLockTimeoutIsRetriedKnowingNothingWasCommitted() throws Exception {
    List<Boolean> seen = new CopyOnWriteArrayList<>();
    double retriesBefore = retried();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long revision =
        whileAnotherWriterHoldsTheRevisionRow(
            () ->
                CallContext.call(
                    deadline,
                    () ->
                        store.write(
                            tx -> {
                              seen.add(tx.earlierAttemptMayHaveCommitted());
                              return append(tx, Status.ACTIVE, dt("b"));
                            })),
            () -> { // the 200 ms lock_timeout ends the first wait; the retry queues again
              Await.until(() -> retried() > retriesBefore);
              awaitWriterBlockedOnTheRevisionRow();
            });
    assertThat(revision).isEqualTo(2);
    assertThat(seen)
        .as("attempts cut by the lock timeout, then one that committed")
        .hasSizeGreaterThanOrEqualTo(2)
        .containsOnly(false);
  }

  /**
   * A writer with the REST budget queued behind the revision row's holder until its deadline is
   * contention, not the database failing: its lock wait ends (55P03) before its connection's socket
   * timeout would, so the breaker does not count it and its connection is not broken. With the lock
   * wait bounded by the deadline alone, it outlasted the socket timeout once that kept time back
   * for a retry (200 ms of a 250 ms budget): 08006, the database's failure (the fault suite's
   * orphaned session, c: 8 REST writes in one run; this test failed in one of two executions then,
   * the lock wait and the socket timeout being equal).
   */
  @Test
  void aWriterQueuedOnTheRevisionRowUntilItsDeadlineIsNotTheDatabasesFailure() throws Exception {
    try (Connection other = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "")) {
      other.setAutoCommit(false);
      try (Statement s = other.createStatement()) {
        s.executeUpdate("UPDATE revision_counter SET revision = revision + 1 WHERE id = 1");
      }
      StoreUnavailableException refused =
          catchThrowableOfType(
              StoreUnavailableException.class, () -> write(Status.ACTIVE, dt("queued")));
      other.rollback();

      assertThat(refused).as("out of its 250 ms budget behind the holder").isNotNull();
      // its attempts: lock waits cut (55P03), the last perhaps not sent (the deadline passed)
      assertThat(refused.databaseAtFault())
          .as("contention, not the database failing (no socket timeout in any attempt)")
          .isFalse();
    }
  }

  @Test
  void everyPooledSessionCarriesTheServerSideBounds() {
    assertThat(jdbc.sql("SHOW statement_timeout").query(String.class).single()).isEqualTo("10s");
    assertThat(jdbc.sql("SHOW lock_timeout").query(String.class).single()).isEqualTo("200ms");
    assertThat(jdbc.sql("SHOW idle_in_transaction_session_timeout").query(String.class).single())
        .isEqualTo("3s");
  }

  /**
   * A pod killed right after taking the revision row: its session stays open and silent, idle in
   * its transaction. The database ends it after idle_in_transaction_session_timeout (3 s), and
   * writers, each bounded by its deadline and lock_timeout, go on. The bound is the feature.
   */
  @Test
  void anAbandonedTransactionReleasesTheRevisionRowWithinSeconds() throws Exception {
    Connection orphan = dataSource.getConnection(); // the service's own session settings
    orphan.setAutoCommit(false);
    try (Statement s = orphan.createStatement()) {
      s.executeUpdate("UPDATE revision_counter SET revision = revision + 1 WHERE id = 1");
    }
    long start = System.nanoTime();
    int refused = 0;
    Long revision = null;
    while (revision == null) {
      try {
        revision = write(Status.ACTIVE, dt("after-orphan"));
      } catch (StoreUnavailableException e) {
        refused++;
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
            .as("writes resume once the database ends the idle transaction")
            .isLessThan(6000);
      }
    }
    long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    assertThatThrownBy(orphan::close)
        .as("the database ended the orphan's session")
        .hasMessageContaining("idle-in-transaction timeout");

    assertThat(refused).as("writes waited while the orphan held the row").isPositive();
    assertThat(waitedMillis).isBetween(2500L, 6000L);
    assertThat(revision).as("the orphan's increment was rolled back").isEqualTo(1);
    long queued = Long.MAX_VALUE;
    for (int i = 0;
        i < 100 && queued > 0;
        i++) { // backends of abandoned attempts end by lock_timeout
      queued =
          jdbc.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
              .query(Long.class)
              .single();
      Thread.sleep(10);
    }
    assertThat(queued).as("no backend left queued on the lock").isZero();
  }

  @Autowired TransactionRunner runner;

  /**
   * A call that spent nearly all its budget queued in this pod for a pool connection and then timed
   * out on the socket did not find the database failing: the breaker must not count it, or a burst
   * of local load would open the breaker for every caller. The same socket timeout with the whole
   * budget left for the database is the database's failure.
   */
  @Test
  void aSocketTimeoutCountsAgainstTheDatabaseOnlyWhenItHadTheBudget() {
    Supplier<Object> slowQuery = () -> jdbc.sql("SELECT pg_sleep(0.4)").query().singleValue();

    StoreUnavailableException queuedFirst =
        catchThrowableOfType(
            StoreUnavailableException.class,
            () ->
                runner.read(
                    () -> {
                      Sleep.millis(230); // queued for a pool connection
                      return slowQuery.get();
                    }));
    StoreUnavailableException givenTheBudget =
        catchThrowableOfType(StoreUnavailableException.class, () -> runner.read(slowQuery));

    assertThat(queuedFirst).as("timed out after the queue").isNotNull();
    assertThat(queuedFirst.databaseAtFault()).as("20 ms left for the database").isFalse();
    assertThat(givenTheBudget).as("timed out with the whole budget").isNotNull();
    assertThat(givenTheBudget.databaseAtFault()).as("250 ms left for the database").isTrue();
  }

  /**
   * A read whose connection goes silent (a database node lost without a FIN or a reset: nothing
   * ever comes back on its sockets; here a statement that sleeps past the call's deadline) gives up
   * on it before its deadline and is answered on another connection, when the call has the time: a
   * gRPC client's 1 s deadline gives up at 850 ms. Before, the network timeout was the whole
   * remaining time, and the call failed at its deadline (the fault suite's lost node, a3).
   */
  @Test
  void aCallWhoseConnectionFallsSilentIsAnsweredOnAnother() {
    AtomicInteger attempts = new AtomicInteger();

    Object answer =
        withAGrpcClientsDeadline(
            () ->
                runner.read(
                    () -> {
                      silentOnTheFirstAttempt(attempts);
                      return jdbc.sql("SELECT 1").query().singleValue();
                    }));

    assertThat(answer).isEqualTo(1);
    assertThat(attempts).as("the silent attempt, then one on another connection").hasValue(2);
  }

  /**
   * The same for a write transaction with a gRPC client's 1 s deadline: its connection gives up at
   * 850 ms and the transaction runs again on another, where it commits. A REST call keeps its whole
   * 250 ms (a wait behind the revision row's holder may use it: the test above).
   */
  @Test
  void aTransactionWhoseConnectionFallsSilentCommitsOnAnother() {
    AtomicInteger attempts = new AtomicInteger();

    long revision =
        withAGrpcClientsDeadline(
            () ->
                store.write(
                    tx -> {
                      silentOnTheFirstAttempt(attempts); // on the transaction's connection
                      return append(tx, Status.ACTIVE, dt("silent"));
                    }));

    assertThat(revision).isEqualTo(1);
    assertThat(attempts).as("the silent attempt, then one on another connection").hasValue(2);
  }

  /** {@code work} under a 1 s deadline, as a gRPC client's; it throws if it runs past it. */
  private static <T> T withAGrpcClientsDeadline(Supplier<T> work) {
    return CallContext.call(System.nanoTime() + TimeUnit.SECONDS.toNanos(1), work);
  }

  /**
   * Counts an attempt; the first one's connection goes silent: a statement that sends nothing back
   * for 5 s, past any deadline of these tests.
   */
  private void silentOnTheFirstAttempt(AtomicInteger attempts) {
    if (attempts.incrementAndGet() == 1) {
      jdbc.sql("SELECT pg_sleep(5)").query().singleValue();
    }
  }

  /**
   * A statement of a call that got its connection with little time left and outlives the deadline
   * is cancelled by the database (57014) and its connection, still healthy, goes back to the pool.
   * Before, the socket timeout enforced the deadline and broke the connection (the backend went on
   * sleeping, then exited): a client with tiny deadlines made the pool open a connection per call.
   */
  @Test
  void aStatementPastItsDeadlineIsCancelledAndItsConnectionKept() {
    AtomicInteger backend = new AtomicInteger();
    // under 100 ms of the 250 ms budget left for the database
    StoreUnavailableException late =
        failedRead(160, backend, connection -> execute(connection, "SELECT pg_sleep(5)"));

    assertThat(late).as("the 250 ms budget ran out").isNotNull();
    assertThat(TransientFailures.sqlState(late)).as("cancelled by the database").contains("57014");
    // back in the pool: idle, or the very connection this check was given
    String state = null;
    for (int i = 0; i < 100 && !"idle".equals(state); i++) {
      state = stateOfBackend(backend.get());
      Sleep.millis(20);
    }
    assertThat(state).as("the backend, back in the pool").isEqualTo("idle");
  }

  /** Work on one connection. */
  private interface OnConnection {
    boolean run(Connection connection) throws SQLException;
  }

  /**
   * How a read call failed that waited {@code millisFirst}, then ran {@code work} on a connection
   * of its own; {@code backend} gets that connection's backend pid.
   */
  private StoreUnavailableException failedRead(
      long millisFirst, AtomicInteger backend, OnConnection work) {
    return catchThrowableOfType(
        StoreUnavailableException.class,
        () ->
            runner.read(
                () -> {
                  Sleep.millis(millisFirst);
                  try (Connection connection = dataSource.getConnection()) {
                    try (Statement statement = connection.createStatement();
                        var pid = statement.executeQuery("SELECT pg_backend_pid()")) {
                      pid.next();
                      backend.set(pid.getInt(1));
                    }
                    return work.run(connection);
                  } catch (SQLException e) {
                    throw new IllegalStateException(e);
                  }
                }));
  }

  /** {@code sql} in a statement of its own, as Spring's templates run each statement. */
  private static boolean execute(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      return statement.execute(sql);
    }
  }

  /**
   * The state of the backend {@code pid} in pg_stat_activity ("idle" when it is the very connection
   * this check was given from the pool), or "gone".
   */
  private String stateOfBackend(int pid) {
    return jdbc.sql(
            """
            SELECT CASE WHEN pid = pg_backend_pid() THEN 'idle' ELSE state END
              FROM pg_stat_activity WHERE pid = :pid
            """)
        .param("pid", pid)
        .query(String.class)
        .optional()
        .orElse("gone");
  }

  /**
   * A call whose earlier statements used up its deadline does not send its next one: that statement
   * fails at once, the call is unavailable without counting against the database (which answered
   * every statement it was sent; writers queued behind the revision row end this way, and a first
   * version of this check that reported them as cancels opened the breaker in this class's run),
   * and the connection, never in doubt, goes back to the pool. Before, the statement was sent: with
   * its whole budget at hand-out the call had only the network timeout, so it ran until the socket
   * timed out (08006, the database's failure) and the connection was broken; a call handed its
   * connection late sent it with a 1 ms query timeout and waited for the cancel.
   */
  @Test
  void aStatementMadeAfterTheDeadlineIsNotSent() {
    AtomicInteger backend = new AtomicInteger();
    StoreUnavailableException late =
        failedRead(
            0,
            backend,
            connection -> {
              execute(connection, "SELECT pg_sleep(0.15)"); // each inside the network timeout
              execute(connection, "SELECT pg_sleep(0.15)");
              return execute(connection, "SELECT pg_sleep(5)");
            });

    assertThat(late).as("the 250 ms budget ran out").isNotNull();
    assertThat(late.databaseAtFault())
        .as("the database answered every statement it was sent: not its failure")
        .isFalse();
    assertThat(late)
        .hasRootCauseMessage("the call's deadline passed before this statement was sent");
    String state = stateOfBackend(backend.get());
    assertThat(state)
        .as("the backend, back in the pool and not running pg_sleep(5)")
        .isEqualTo("idle");
  }

  /**
   * A statement the session's statement_timeout cancelled, with time left on the call: the database
   * did not finish it in time, so the call is unavailable (503 / UNAVAILABLE), not an unexpected
   * failure. It answered 500 once in the fault suite's stalls (a2, 2026-12-03), after a write's
   * statement ran into the 10 s statement_timeout.
   */
  @Test
  void aStatementCancelledByTheStatementTimeoutIsUnavailableNotAnError() {
    StoreUnavailableException timedOut =
        catchThrowableOfType(
            StoreUnavailableException.class,
            () ->
                runner.read(
                    () -> {
                      try (Connection connection = dataSource.getConnection();
                          Statement statement = connection.createStatement()) {
                        connection.setAutoCommit(false);
                        statement.execute("SET LOCAL statement_timeout = 20");
                        return statement.execute("SELECT pg_sleep(1)");
                      } catch (SQLException e) {
                        throw new IllegalStateException(e);
                      }
                    }));

    assertThat(timedOut).as("unavailable, with 230 ms of the budget left").isNotNull();
    assertThat(TransientFailures.sqlState(timedOut)).contains("57014");
    assertThat(timedOut.getCause())
        .hasRootCauseMessage("ERROR: canceling statement due to statement timeout");
  }

  /**
   * Runs {@code ours} while another transaction holds the revision row, and commits that one once
   * ours waits on the row and {@code thenWhen} has returned.
   */
  private long whileAnotherWriterHoldsTheRevisionRow(Supplier<Long> ours, Runnable thenWhen)
      throws Exception {
    try (Connection other = DriverManager.getConnection(TestDatabase.jdbcUrl(), "postgres", "")) {
      other.setAutoCommit(false);
      try (Statement s = other.createStatement()) {
        s.executeUpdate("UPDATE revision_counter SET revision = revision + 1 WHERE id = 1");
      }
      CompletableFuture<Long> answer = CompletableFuture.supplyAsync(ours);
      awaitWriterBlockedOnTheRevisionRow();
      thenWhen.run();
      other.commit();
      return answer.get(10, TimeUnit.SECONDS);
    }
  }

  private double retried() {
    return meters.counter("veltrix.db.retries", "outcome", "retried").count();
  }

  private void awaitWriterBlockedOnTheRevisionRow() {
    Await.until(
        () ->
            jdbc.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                    .query(Long.class)
                    .single()
                > 0);
  }
}
