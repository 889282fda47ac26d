package com.veltrix.config.rest;

import static com.veltrix.config.support.Payloads.dropTable;
import static com.veltrix.config.support.Payloads.spawnRule;
import static com.veltrix.config.support.Payloads.treasureLocation;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.Http.Response;
import com.veltrix.config.support.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Every row of design.md's REST table over real HTTP against a real database. Subclasses choose the
 * database (embedded PostgreSQL always; CockroachDB where a Docker engine runs).
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"management.server.port=0"})
abstract class RestApiContract {

  static final String DT = "/api/v1/drop-tables/";
  static final String TL = "/api/v1/treasure-locations/";
  static final String SR = "/api/v1/spawn-rules/";
  static final String LIST_DT = "/api/v1/drop-tables";
  static final String LIST_TL = "/api/v1/treasure-locations";

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  Http http;

  @BeforeEach
  void resetData() {
    TestDatabase.reset(jdbc);
    http = new Http(port);
  }

  long revision() {
    return http.get("/api/v1/revision").json().get("revision").asLong();
  }

  long storedVersions() {
    return jdbc.sql("SELECT count(*) FROM document_versions").query(Long.class).single();
  }

  /** A drop table, a location on it and a spawn rule over both. */
  void seedChain() {
    assertThat(http.put(DT + "dt-1", dropTable("gold", 10)).status()).isEqualTo(201);
    assertThat(http.put(TL + "loc-1", treasureLocation("zone-a", "dt-1")).status()).isEqualTo(201);
    assertThat(http.put(SR + "sr-1", spawnRule("zone-a", "loc-1", "dt-1")).status()).isEqualTo(201);
  }

  // --- PUT /{kind}/{id} ------------------------------------------------------------------------

  @Test
  void createsDocumentWith201LocationAndEtag() {
    Response r = http.put(DT + "dt-1", dropTable("gold", 10));

    assertThat(r.status()).isEqualTo(201);
    assertThat(r.header("Location")).contains("/api/v1/drop-tables/dt-1");
    assertThat(r.header("ETag")).contains("\"1\"");
    JsonNode body = r.json();
    assertThat(body.get("kind").asText()).isEqualTo("DROP_TABLE");
    assertThat(body.get("id").asText()).isEqualTo("dt-1");
    assertThat(body.get("version").asLong()).isEqualTo(1);
    assertThat(body.get("revision").asLong()).isEqualTo(1);
    assertThat(body.get("status").asText()).isEqualTo("ACTIVE");
    assertThat(body.get("contentHash").asText()).matches("[0-9a-f]{64}");
    assertThat(body.get("updatedBy").asText()).isEqualTo("test-admin");
    assertThat(body.get("requestId").asText()).isNotBlank();
    assertThat(body.get("updatedAt").asText()).endsWith("Z");
    assertThat(body.get("payload").get("entries").get(0).get("itemId").asText()).isEqualTo("gold");
    assertThat(body.has("unchanged")).isFalse();
  }

  @Test
  void updateCreatesNextVersionWith200() {
    http.put(DT + "dt-1", dropTable("gold", 10));

    Response r = http.put(DT + "dt-1", dropTable("gold", 20));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("version").asLong()).isEqualTo(2);
    assertThat(r.json().get("revision").asLong()).isEqualTo(2);
    assertThat(r.header("ETag")).contains("\"2\"");
  }

  @Test
  void writingTheCurrentContentAgainIsANoOpThatConsumesNoRevision() {
    http.put(DT + "dt-1", dropTable("gold", 10));
    String reordered =
        """
        {"entries":[{"maxQuantity":3,"minQuantity":1,"weight":10.0,"itemId":"gold"}],
         "rolls":2}""";

    Response r = http.put(DT + "dt-1", reordered);

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("unchanged").asBoolean()).isTrue();
    assertThat(r.json().get("version").asLong()).isEqualTo(1);
    assertThat(revision()).isEqualTo(1);
    assertThat(http.get("/api/v1/changes").json().get("events")).hasSize(1);
  }

  @Test
  void ifMatchWithAnotherVersionIs412AndChangesNothing() {
    http.put(DT + "dt-1", dropTable("gold", 10));

    Response r = http.put(DT + "dt-1", dropTable("gold", 20), "If-Match", "\"7\"");

    assertThat(r.status()).isEqualTo(412);
    assertThat(r.header("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).contains("problem+json"));
    assertThat(r.json().get("currentVersion").asLong()).isEqualTo(1);
    assertThat(revision()).isEqualTo(1);
    assertThat(
            http.get(DT + "dt-1").json().get("payload").get("entries").get(0).get("weight").asInt())
        .isEqualTo(10);
  }

  @Test
  void ifMatchWithTheCurrentVersionUpdates() {
    http.put(DT + "dt-1", dropTable("gold", 10));

    Response r = http.put(DT + "dt-1", dropTable("gold", 20), "If-Match", "\"1\"");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("version").asLong()).isEqualTo(2);
  }

  @Test
  void ifNoneMatchStarCreatesOnlyOnce() {
    assertThat(http.put(DT + "dt-1", dropTable("gold", 10), "If-None-Match", "*").status())
        .isEqualTo(201);

    Response again = http.put(DT + "dt-1", dropTable("gold", 20), "If-None-Match", "*");

    assertThat(again.status()).isEqualTo(412);
    assertThat(revision()).isEqualTo(1);
  }

  @Test
  void malformedIfMatchIs400NamingTheHeader() {
    Response r = http.put(DT + "dt-1", dropTable("gold", 10), "If-Match", "\"abc\"");

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("errors").get(0).get("parameter").asText()).isEqualTo("If-Match");
  }

  @Test
  void rejectsUnknownFieldWithItsPointerAndStoresNothing() {
    Response r =
        http.put(
            DT + "dt-1",
            "{\"rolls\":1,\"entries\":[{\"itemId\":\"a\",\"weight\":1,"
                + "\"minQuantity\":0,\"maxQuantity\":1,\"colour\":\"red\"}]}");

    refusedAt(r, "/entries/0/colour");
    assertThat(revision()).isZero();
  }

  @Test
  void reportsEverySchemaViolationWithAPointer() {
    Response r =
        http.put(
            DT + "dt-1",
            "{\"rolls\":0,\"entries\":[{\"itemId\":\"a\",\"weight\":-1,\"minQuantity\":5,"
                + "\"maxQuantity\":1}]}");

    assertThat(r.status()).isEqualTo(400);
    List<String> pointers = new ArrayList<>();
    r.json().get("errors").forEach(e -> pointers.add(e.get("pointer").asText()));
    assertThat(pointers).contains("/rolls", "/entries/0/weight");
  }

  @Test
  void rejectsDuplicateKeys() {
    Response r = http.put(DT + "dt-1", "{\"rolls\":1,\"rolls\":2,\"entries\":[]}");

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("errors").get(0).get("message").asText()).contains("rolls");
    assertThat(storedVersions()).isZero();
  }

  @Test
  void rejectsMalformedJsonSayingWhere() {
    Response r = http.put(DT + "dt-1", "{\"rolls\": 1,");

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("errors").get(0).get("message").asText()).contains("malformed JSON");
    assertThat(r.body()).doesNotContain("at com.", "Exception");
  }

  @Test
  void aMalformedBodyIsDescribedWithoutTheParsersInternals() {
    Response r = http.put(DT + "dt-1", "{\"rolls\": [1, 2}");

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("errors").get(0).get("pointer").asText()).isEqualTo("/rolls/1");
    assertThat(r.json().get("errors").get(0).get("message").asText())
        .isEqualTo(
            "malformed JSON: Unexpected close marker '}': expected ']'"
                + " (for Array starting at line 1, column 11) (line 1, column 16)");
    Response trailing = http.put(DT + "dt-1", "{\"rolls\": 1} {}");
    assertThat(trailing.json().get("errors").get(0).get("message").asText())
        .isEqualTo(
            "malformed JSON: Trailing token (of type START_OBJECT) found after value"
                + " (line 1, column 14)");
    assertThat(storedVersions()).isZero();
  }

  @Test
  void rejectsAnythingButJsonWith415() {
    Response r =
        http.send(
            "PUT",
            DT + "dt-1",
            "rolls=1".getBytes(StandardCharsets.UTF_8),
            "Content-Type",
            "text/plain");

    assertThat(r.status()).isEqualTo(415);
    assertThat(storedVersions()).isZero();
  }

  /**
   * A compressed body is refused by name: it was read as JSON and answered 400 "Illegal character
   * ((CTRL-CHAR, code 31))", gzip's first byte.
   */
  @Test
  void rejectsACompressedBodyWith415NamingItsEncoding() throws IOException {
    ByteArrayOutputStream gzipped = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gzipped)) {
      out.write(dropTable("iron", 1).getBytes(StandardCharsets.UTF_8));
    }
    Response r =
        http.send(
            "PUT",
            DT + "dt-1",
            gzipped.toByteArray(),
            "Content-Type",
            "application/json",
            "Content-Encoding",
            "gzip");

    assertThat(r.status()).isEqualTo(415);
    assertThat(r.headers().get("accept-encoding")).containsExactly("identity");
    assertThat(r.json().get("detail").asText())
        .isEqualTo("Content-Encoding 'gzip' is not accepted; send the body uncompressed");
    assertThat(storedVersions()).isZero();
    assertThat(
            http.send(
                    "PUT",
                    DT + "dt-1",
                    dropTable("iron", 1).getBytes(StandardCharsets.UTF_8),
                    "Content-Type",
                    "application/json",
                    "Content-Encoding",
                    "identity")
                .status())
        .isEqualTo(201);
    // a request without a body has nothing to decode, whatever it declares
    assertThat(http.get(DT + "dt-1", "Content-Encoding", "gzip").status()).isEqualTo(200);
  }

  @Test
  void rejectsPayloadsOver64KiBWith413() {
    StringBuilder tags = new StringBuilder();
    String big = "x".repeat(70_000);
    tags.append("{\"rolls\":1,\"entries\":[{\"itemId\":\"").append(big).append("\"}]}");

    Response r = http.put(DT + "dt-1", tags.toString());

    assertThat(r.status()).isEqualTo(413);
    assertThat(storedVersions()).isZero();
  }

  @Test
  void rejectsInvalidIdsAndUnknownKinds() {
    assertThat(http.put(DT + "-starts-with-dash", dropTable("gold", 1)).status()).isEqualTo(400);
    assertThat(http.put(DT + "has%20space", dropTable("gold", 1)).status()).isEqualTo(400);
    assertThat(http.put(DT + "x".repeat(129), dropTable("gold", 1)).status()).isEqualTo(400);
    assertThat(http.put("/api/v1/monsters/m-1", dropTable("gold", 1)).status()).isEqualTo(404);
    assertThat(storedVersions()).isZero();
  }

  @Test
  void rejectsDanglingReferenceWith409() {
    Response r = http.put(TL + "loc-1", treasureLocation("zone-a", "no-such-table"));

    assertThat(r.status()).isEqualTo(409);
    assertThat(r.json().get("missing").get(0).get("id").asText()).isEqualTo("no-such-table");
    assertThat(revision()).isZero();
    assertThat(storedVersions()).isZero();
  }

  @Test
  void rejectsPayloadIdThatIsNotTheDocumentId() {
    Response r =
        http.put(
            DT + "dt-1",
            "{\"id\":\"dt-2\",\"rolls\":1,\"entries\":["
                + "{\"itemId\":\"a\",\"weight\":1,\"minQuantity\":0,\"maxQuantity\":1}]}");

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("errors").get(0).get("pointer").asText()).isEqualTo("/id");
  }

  @Test
  void rejectsNestingDeeperThan32() {
    String deep = "{\"rolls\":1,\"entries\":[],\"x\":" + "[".repeat(40) + "]".repeat(40) + "}";

    Response r = http.put(DT + "dt-1", deep);

    assertThat(r.status()).isEqualTo(400);
    assertThat(storedVersions()).isZero();
  }

  @Test
  void rejectsNulCharactersAndInvalidUtf8() {
    Response nul =
        http.put(
            DT + "dt-1",
            "{\"rolls\":1,\"entries\":[{\"itemId\":\"a\","
                + "\"weight\":1,\"minQuantity\":0,\"maxQuantity\":1,\"n\":\"a\\u0000b\"}]}");
    byte[] invalid =
        "{\"rolls\":1,\"entries\":[],\"n\":\"\u00ff\"}".getBytes(StandardCharsets.ISO_8859_1);
    Response badBytes = http.send("PUT", DT + "dt-2", invalid, "Content-Type", "application/json");

    assertThat(nul.status()).isEqualTo(400);
    assertThat(badBytes.status()).isEqualTo(400);
    assertThat(storedVersions()).isZero();
  }

  /** Hostile bodies: each is a 4xx with a problem body, never a 5xx, and stores nothing. */
  @Test
  void refusesHostileJsonWith4xxAndStoresNothing() {
    String valid =
        "\"rolls\":1,\"entries\":[{\"itemId\":\"a\",\"weight\":1,\"minQuantity\":0,\"maxQuantity\":1}]";
    List<String> bodies =
        List.of(
            "{" + valid + ",\"x\":NaN}",
            "{" + valid + ",\"x\":Infinity}",
            "{" + valid + ",\"x\":-Infinity}",
            "{" + valid + ",\"x\":1" + "0".repeat(200) + "}",
            "{" + valid + ",\"x\":\"\\ud800\"}",
            "{" + valid + ",\"x\\u0000y\":1}",
            "{" + valid + "} trailing",
            "{" + valid + "}{}",
            "[" + "{".repeat(5000),
            "{" + valid + ",\"x\":" + "[".repeat(33) + "]".repeat(33) + "}",
            "{\"rolls\":1e999999999,\"entries\":[]}",
            "{\"rolls\":88888888E8888880888889,\"entries\":[]}",
            "{\"rolls\":true,\"entries\":\"no\"}",
            "null",
            "\"just a string\"",
            "",
            "{" + valid + ",\"rolls\":2}");
    for (String body : bodies) {
      Response r = http.put(DT + "hostile", body);
      assertThat(r.status())
          .as(body.length() > 80 ? body.substring(0, 80) : body)
          .isBetween(400, 499);
      assertThat(r.header("Content-Type"))
          .hasValueSatisfying(t -> assertThat(t).contains("problem+json"));
    }
    assertThat(storedVersions()).isZero();
    assertThat(revision()).isZero();
  }

  // --- GET /{kind}/{id} ------------------------------------------------------------------------

  @Test
  void getsLatestWithEtagAnd304OnIfNoneMatch() {
    http.put(DT + "dt-1", dropTable("gold", 10));
    http.put(DT + "dt-1", dropTable("gold", 20));

    Response r = http.get(DT + "dt-1");
    Response notModified = http.get(DT + "dt-1", "If-None-Match", "\"2\"");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("ETag")).contains("\"2\"");
    assertThat(r.json().get("version").asLong()).isEqualTo(2);
    assertThat(notModified.status()).isEqualTo(304);
    assertThat(http.get(DT + "dt-1", "If-None-Match", "\"1\"").status()).isEqualTo(200);
  }

  /**
   * What a consumer does to check a payload it received: RFC 8785 with a library of its own (the
   * RFC author's reference implementation, not the service's code), SHA-256, compare.
   */
  @Test
  void aConsumerRecomputesContentHashWithAnIndependentRfc8785Library() throws Exception {
    String payload =
        "{\"rolls\": 2, \"entries\": [{\"itemId\": \"dust\", \"weight\": 1E-7,"
            + " \"minQuantity\": 0, \"maxQuantity\": 1}, {\"itemId\": \"gold\","
            + " \"weight\": 1e21, \"minQuantity\": 1, \"maxQuantity\": 3}]}";
    http.put(DT + "dt-jcs", payload);

    JsonNode document = http.get(DT + "dt-jcs").json();
    String canonical =
        new org.erdtman.jcs.JsonCanonicalizer(document.get("payload").toString())
            .getEncodedString();
    byte[] digest =
        java.security.MessageDigest.getInstance("SHA-256")
            .digest(canonical.getBytes(StandardCharsets.UTF_8));

    assertThat(document.get("contentHash").asText())
        .isEqualTo(java.util.HexFormat.of().formatHex(digest));
    assertThat(canonical).contains("\"weight\":1e-7", "\"weight\":1e+21");
  }

  @Test
  void numbersADoubleCannotCarryAsWrittenAre400AndWriteNothing() {
    Response r =
        http.put(
            DT + "dt-big",
            "{\"rolls\": 1, \"entries\": [{\"itemId\": \"gold\", \"weight\": 9007199254740993,"
                + " \"minQuantity\": 0, \"maxQuantity\": 1}]}");

    refusedAt(r, "/entries/0/weight");
  }

  /**
   * An id inside a payload ends where its text ends: one followed by a line break is refused at its
   * pointer. (The schemas' regular expression once took it: as a reference the write then failed
   * with a 500, as an item id or a zone it was stored where no query could name it.)
   */
  @Test
  void anIdInAPayloadFollowedByALineBreakIsRefusedAtItsPointer() {
    refusedAt(http.put(TL + "tl-1", treasureLocation("zone-a", "dt-1\\n")), "/dropTableId");
    refusedAt(http.put(TL + "tl-2", treasureLocation("zone-a\\n", "dt-1")), "/zone");
    refusedAt(http.put(DT + "dt-1", dropTable("gold\\n", 1)), "/entries/0/itemId");
  }

  /** 400 naming the pointer of the (first) bad value, and nothing stored. */
  void refusedAt(Response r, String pointer) {
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("errors").get(0).get("pointer").asText()).isEqualTo(pointer);
    assertThat(storedVersions()).isZero();
  }

  @Test
  void aMalformedRequestIdIs400AndTheAnswerCarriesANewOne() {
    for (String id : new String[] {"x".repeat(129), "has space", "semi;colon"}) {
      Response r = http.put(DT + "dt-1", dropTable("gold", 1), "X-Request-Id", id);

      assertThat(r.status()).as(id).isEqualTo(400);
      assertThat(r.json().get("errors").get(0).get("parameter").asText()).isEqualTo("X-Request-Id");
      assertThat(r.header("X-Request-Id")).hasValueSatisfying(h -> assertThat(h).isNotEqualTo(id));
    }
    assertThat(http.get(DT + "dt-1", "X-Request-Id", "ok-id.1").header("X-Request-Id"))
        .contains("ok-id.1");
    assertThat(storedVersions()).isZero();
  }

  @Test
  @ExtendWith(OutputCaptureExtension.class)
  void callerTextInLogLinesIsEscapedAndEachLineCarriesTheRequestId(CapturedOutput output) {
    Response r =
        http.get(
            "/api/v1/drop-tables?status=X%0D%0AFORGED%20ERROR%20line&limit=2",
            "X-Request-Id", "trace-escape-1");

    assertThat(r.status()).isEqualTo(400);
    List<String> lines = output.getOut().lines().filter(l -> l.contains("FORGED")).toList();
    assertThat(lines).isNotEmpty();
    assertThat(lines)
        .allSatisfy(
            l ->
                assertThat(l)
                    .contains("[trace-escape-1]", "\\u000d\\u000aFORGED")
                    .doesNotStartWith("FORGED"));
  }

  @Test
  void getsAnyVersionAsImmutable() {
    http.put(DT + "dt-1", dropTable("gold", 10));
    http.put(DT + "dt-1", dropTable("gold", 20));

    Response r = http.get(DT + "dt-1?version=1");

    assertThat(r.json().get("version").asLong()).isEqualTo(1);
    assertThat(r.json().get("payload").get("entries").get(0).get("weight").asInt()).isEqualTo(10);
    assertThat(r.header("Cache-Control"))
        .as("authenticated: no shared cache may keep it")
        .hasValueSatisfying(
            c -> assertThat(c).contains("immutable", "private").doesNotContain("public"));
    assertThat(http.get(DT + "dt-1?version=3").status()).isEqualTo(404);
  }

  @Test
  void getsStateAsOfARevision() {
    http.put(DT + "dt-1", dropTable("gold", 10)); // r1
    http.put(DT + "dt-2", dropTable("iron", 1)); // r2
    http.put(DT + "dt-1", dropTable("gold", 20)); // r3

    assertThat(http.get(DT + "dt-1?atRevision=2").json().get("version").asLong()).isEqualTo(1);
    assertThat(http.get(DT + "dt-1?atRevision=3").json().get("version").asLong()).isEqualTo(2);
    assertThat(http.get(DT + "dt-2?atRevision=1").status()).isEqualTo(404);
    Response future = http.get(DT + "dt-1?atRevision=99");
    assertThat(future.status()).isEqualTo(400);
    assertThat(future.json().get("errors").get(0).get("parameter").asText())
        .isEqualTo("atRevision");
  }

  @Test
  void rejectsNegativeAndNonNumericVersionsAndRevisions() {
    http.put(DT + "dt-1", dropTable("gold", 10));

    for (String query :
        List.of(
            "version=-1",
            "version=0",
            "version=abc",
            "atRevision=-1",
            "atRevision=x",
            "version=1&atRevision=1")) {
      Response r = http.get(DT + "dt-1?" + query);
      assertThat(r.status()).as(query).isEqualTo(400);
      assertThat(r.json().get("errors").get(0).has("parameter")).as(query).isTrue();
    }
  }

  /**
   * A query parameter the call does not take is refused, not ignored: a misspelt {@code atRevision}
   * would otherwise answer the current state as if it were the state asked for, and a {@code
   * dryRun} that nothing reads would write.
   */
  @Test
  void aQueryParameterTheCallDoesNotTakeIsRefusedByNameAndChangesNothing() {
    http.put(DT + "dt-1", dropTable("gold", 10));
    http.put(DT + "dt-1", dropTable("gold", 20));

    Response misspelt = http.get(DT + "dt-1?atRevison=1");
    assertThat(misspelt.status()).isEqualTo(400);
    JsonNode error = misspelt.json().get("errors").get(0);
    assertThat(error.get("parameter").asText()).isEqualTo("atRevison");
    assertThat(error.get("message").asText())
        .isEqualTo("is not a parameter of this call; it takes version, atRevision, atTime");

    Response dryRun = http.put(DT + "dt-2?dryRun=true", dropTable("iron", 1));
    assertThat(dryRun.status()).isEqualTo(400);
    assertThat(dryRun.json().get("errors").get(0).get("message").asText())
        .isEqualTo("is not a parameter of this call; it takes none");
    assertThat(http.get(DT + "dt-2").status()).isEqualTo(404);
    assertThat(revision()).isEqualTo(2);

    Response twice = http.get("/api/v1/drop-tables?limit=1&limit=2");
    assertThat(twice.status()).isEqualTo(400);
    assertThat(twice.json().get("errors").get(0).get("parameter").asText()).isEqualTo("limit");
    assertThat(twice.json().get("errors").get(0).get("message").asText())
        .isEqualTo("is given 2 times; give it once");

    Response both = http.get("/api/v1/revision?x=1&y=2");
    assertThat(both.status()).isEqualTo(400);
    assertThat(both.json().get("errors")).hasSize(2);

    // a list parameter may repeat
    assertThat(http.get("/api/v1/changes?kinds=DROP_TABLE&kinds=SPAWN_RULE").status())
        .isEqualTo(200);
  }

  @Test
  void aPathNoRouteMatchesIs404NamingIt() {
    Response r = http.get(DT + "dt-1/history");

    assertThat(r.status()).isEqualTo(404);
    assertThat(r.json().get("detail").asText())
        .isEqualTo(
            "no such endpoint: GET /api/v1/drop-tables/dt-1/history; the API is described at"
                + " /v3/api-docs");
  }

  @Test
  void unknownDocumentIs404ProblemDetail() {
    Response r = http.get(DT + "nope");

    assertThat(r.status()).isEqualTo(404);
    assertThat(r.json().get("detail").asText()).contains("DROP_TABLE/nope");
  }

  // --- GET /{kind}/{id}/versions ---------------------------------------------------------------

  @Test
  void listsHistoryNewestFirstInPages() {
    for (int w = 1; w <= 5; w++) {
      http.put(DT + "dt-1", dropTable("gold", w));
    }

    JsonNode first = http.get(DT + "dt-1/versions?limit=2").json();
    JsonNode second =
        http.get(DT + "dt-1/versions?limit=2&pageToken=" + first.get("nextPageToken").asText())
            .json();
    JsonNode third =
        http.get(DT + "dt-1/versions?limit=2&pageToken=" + second.get("nextPageToken").asText())
            .json();

    assertThat(versions(first)).containsExactly(5L, 4L);
    assertThat(versions(second)).containsExactly(3L, 2L);
    assertThat(versions(third)).containsExactly(1L);
    assertThat(third.get("nextPageToken").isNull()).isTrue();
    assertThat(http.get(DT + "nope/versions").status()).isEqualTo(404);
  }

  @Test
  void refusesPageTokensThatAreBrokenOrBelongElsewhere() {
    for (int w = 1; w <= 3; w++) {
      http.put(DT + "dt-1", dropTable("gold", w));
    }
    http.put(DT + "dt-2", dropTable("gold", 1));
    String token = http.get(DT + "dt-1/versions?limit=1").json().get("nextPageToken").asText();

    assertThat(http.get(DT + "dt-2/versions?pageToken=" + token).status()).isEqualTo(400);
    String tampered = (token.charAt(0) == 'A' ? "B" : "A") + token.substring(1);
    assertThat(http.get(DT + "dt-1/versions?pageToken=" + tampered).status())
        .as("an altered token")
        .isEqualTo(400);
    assertThat(
            http.get(DT + "dt-1/versions?pageToken=" + token.substring(0, token.indexOf('.')))
                .status())
        .as("a token without its signature")
        .isEqualTo(400);
    assertThat(http.get(DT + "dt-1/versions?pageToken=garbage!").status()).isEqualTo(400);
    assertThat(http.get(LIST_DT + "?pageToken=" + token).status()).isEqualTo(400);
    assertThat(http.get(LIST_DT + "?limit=0").status()).isEqualTo(400);
    assertThat(http.get(LIST_DT + "?limit=1001").status()).isEqualTo(400);
    assertThat(http.get(LIST_DT + "?status=DELETED").status()).isEqualTo(400);
  }

  @Test
  void aBodyFieldOfTheWrongTypeSaysWhatItMustBeAndWasInJsonsWords() {
    http.put(DT + "dt-1", dropTable("gold", 10));
    String retire = "{\"writes\": [{\"op\": \"retire\", \"kind\": \"DROP_TABLE\", \"id\": ";

    // 1.5 was read as 1 (Jackson's ACCEPT_FLOAT_AS_INT), so this retire went ahead at version 1
    assertThat(error(http.post("/api/v1/batches", retire + "\"dt-1\", \"ifMatch\": 1.5}]}")))
        .isEqualTo("/writes/0/ifMatch: must be a whole number that fits in 64 bits, was 1.5");
    assertThat(error(http.post("/api/v1/batches", retire + "[\"dt-1\"]}]}")))
        .isEqualTo("/writes/0/id: must be a string, was an array");
    assertThat(error(http.post("/api/v1/batches", "{\"writes\": {}}")))
        .isEqualTo("/writes: must be an array, was an object");
    assertThat(error(http.post("/api/v1/batches", "[1]")))
        .isEqualTo(": must be an object, was an array");
    assertThat(error(http.post(DT + "dt-1/rollback", "{\"toVersion\": 99999999999999999999}")))
        .isEqualTo(
            "/toVersion: must be a whole number that fits in 64 bits, was 99999999999999999999");
    assertThat(
            error(http.post(DT + "dt-1/rollback", "{\"toVersion\": \"" + "v".repeat(50) + "\"}")))
        .isEqualTo(
            "/toVersion: must be a whole number that fits in 64 bits, was \""
                + "v".repeat(40)
                + "\"... (50 characters)");
    assertThat(http.get(DT + "dt-1").json().get("version").asLong()).isEqualTo(1);
  }

  /** The one violation of a 400, as its pointer (or parameter) and message. */
  private static String error(Response r) {
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("errors")).hasSize(1);
    JsonNode error = r.json().get("errors").get(0);
    JsonNode where = error.has("pointer") ? error.get("pointer") : error.get("parameter");
    return where.asText() + ": " + error.get("message").asText();
  }

  // --- POST /{kind}/{id}/rollback --------------------------------------------------------------

  @Test
  void rollbackWritesANewVersionWithTheOldContent() {
    String v1 = http.put(DT + "dt-1", dropTable("gold", 10)).json().get("contentHash").asText();
    http.put(DT + "dt-1", dropTable("gold", 20));

    Response r = http.post(DT + "dt-1/rollback", "{\"toVersion\":1}");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("version").asLong()).isEqualTo(3);
    assertThat(r.json().get("contentHash").asText()).isEqualTo(v1);
    Response again = http.post(DT + "dt-1/rollback", "{\"toVersion\":1}");
    assertThat(again.json().get("unchanged").asBoolean()).isTrue();
    assertThat(http.post(DT + "dt-1/rollback", "{\"toVersion\":9}").status()).isEqualTo(404);
    assertThat(http.post(DT + "dt-1/rollback", "{\"toVersion\":0}").status()).isEqualTo(400);
    assertThat(http.post(DT + "dt-1/rollback", "{}").status()).isEqualTo(400);
  }

  // --- DELETE /{kind}/{id} ---------------------------------------------------------------------

  @Test
  void retireWritesATombstoneAndKeepsHistory() {
    http.put(DT + "dt-1", dropTable("gold", 10));

    Response r = http.delete(DT + "dt-1");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("status").asText()).isEqualTo("RETIRED");
    assertThat(r.json().get("version").asLong()).isEqualTo(2);
    assertThat(http.get(DT + "dt-1").json().get("status").asText()).isEqualTo("RETIRED");
    assertThat(http.get(DT + "dt-1?version=1").json().get("status").asText()).isEqualTo("ACTIVE");
    assertThat(http.delete(DT + "dt-1").json().get("unchanged").asBoolean()).isTrue();
    assertThat(http.delete(DT + "never").status()).isEqualTo(404);
  }

  @Test
  void retireOfAReferencedDocumentIs409WithTheReferrers() {
    seedChain();

    Response r = http.delete(DT + "dt-1");

    assertThat(r.status()).isEqualTo(409);
    List<String> referrers = new ArrayList<>();
    r.json().get("referrers").forEach(ref -> referrers.add(ref.get("id").asText()));
    assertThat(referrers).containsExactlyInAnyOrder("loc-1", "sr-1");
    assertThat(http.get(DT + "dt-1").json().get("status").asText()).isEqualTo("ACTIVE");
  }

  @Test
  void retireHonoursIfMatch() {
    http.put(DT + "dt-1", dropTable("gold", 10));

    assertThat(http.delete(DT + "dt-1", "If-Match", "\"5\"").status()).isEqualTo(412);
    assertThat(http.delete(DT + "dt-1", "If-Match", "\"1\"").status()).isEqualTo(200);
  }

  // --- GET /{kind} -----------------------------------------------------------------------------

  @Test
  void listsByStatusAndZone() {
    seedChain();
    http.put(TL + "loc-2", treasureLocation("zone-b", "dt-1"));
    http.put(TL + "loc-3", treasureLocation("zone-a", "dt-1"));
    http.delete(TL + "loc-3");

    assertThat(ids(http.get(LIST_TL).json())).containsExactly("loc-1", "loc-2", "loc-3");
    assertThat(ids(http.get(LIST_TL + "?status=ACTIVE").json())).containsExactly("loc-1", "loc-2");
    assertThat(ids(http.get(LIST_TL + "?status=ACTIVE&zone=zone-a").json()))
        .containsExactly("loc-1");
    assertThat(ids(http.get(LIST_TL + "?status=RETIRED").json())).containsExactly("loc-3");
    assertThat(http.get(LIST_TL + "?zone=bad%20zone").status()).isEqualTo(400);
  }

  @Test
  void everyPageOfAListingIsReadAtTheRevisionOfTheFirst() {
    for (int i = 1; i <= 5; i++) {
      http.put(DT + "dt-" + i, dropTable("gold", i));
    }
    JsonNode first = http.get(LIST_DT + "?limit=2").json();
    long snapshot = first.get("revision").asLong();

    http.put(DT + "dt-4", dropTable("gold", 99)); // changes a document on a later page
    http.put(DT + "dt-35", dropTable("gold", 1)); // adds one between pages
    http.delete(DT + "dt-5");

    JsonNode second =
        http.get(LIST_DT + "?limit=2&pageToken=" + first.get("nextPageToken").asText()).json();
    JsonNode third =
        http.get(LIST_DT + "?limit=2&pageToken=" + second.get("nextPageToken").asText()).json();

    assertThat(ids(first)).containsExactly("dt-1", "dt-2");
    assertThat(ids(second)).containsExactly("dt-3", "dt-4");
    assertThat(ids(third)).containsExactly("dt-5");
    assertThat(second.get("revision").asLong()).isEqualTo(snapshot);
    assertThat(second.get("items").get(1).get("version").asLong()).isEqualTo(1);
    assertThat(third.get("items").get(0).get("status").asText()).isEqualTo("ACTIVE");
  }

  // --- POST /batches ---------------------------------------------------------------------------

  @Test
  void batchIsAtomicAtOneRevisionAndMayCreateWhatItReferences() {
    String body =
        """
        {"writes": [
          {"op": "upsert", "kind": "SPAWN_RULE", "id": "sr-1", "payload": %s},
          {"op": "upsert", "kind": "TREASURE_LOCATION", "id": "loc-1", "payload": %s},
          {"op": "upsert", "kind": "DROP_TABLE", "id": "dt-1", "payload": %s}
        ]}"""
            .formatted(
                spawnRule("zone-a", "loc-1", "dt-1"),
                treasureLocation("zone-a", "dt-1"),
                dropTable("gold", 1));

    Response r = http.post("/api/v1/batches", body);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("revision").asLong()).isEqualTo(1);
    assertThat(r.json().get("results")).hasSize(3);
    r.json().get("results").forEach(d -> assertThat(d.get("revision").asLong()).isEqualTo(1));
    assertThat(revision()).isEqualTo(1);
  }

  @Test
  void batchWithOneBadWriteStoresNothingAndPointsAtIt() {
    String body =
        """
        {"writes": [
          {"op": "upsert", "kind": "DROP_TABLE", "id": "dt-1", "payload": %s},
          {"op": "upsert", "kind": "DROP_TABLE", "id": "dt-2", "payload": {"rolls": 500, "entries": []}}
        ]}"""
            .formatted(dropTable("gold", 1));

    Response r = http.post("/api/v1/batches", body);

    assertThat(r.status()).isEqualTo(400);
    List<String> pointers = new ArrayList<>();
    r.json().get("errors").forEach(e -> pointers.add(e.get("pointer").asText()));
    assertThat(pointers).contains("/writes/1/payload/rolls", "/writes/1/payload/entries");
    assertThat(storedVersions()).isZero();
    assertThat(revision()).isZero();
  }

  @Test
  void aLargeBatchNamesEveryBadWriteInTheBatchsOrder() {
    // 300 writes, so that a bad write is found far into a batch
    StringBuilder body = new StringBuilder("{\"writes\":[");
    for (int i = 0; i < 300; i++) {
      boolean bad = i == 5 || i == 150 || i == 299;
      body.append(i == 0 ? "" : ",")
          .append("{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-")
          .append(i == 200 ? 7 : i) // written twice
          .append("\",\"payload\":")
          .append(bad ? "{\"rolls\": 500, \"entries\": []}" : dropTable("gold", 1))
          .append("}");
    }
    body.append("]}");

    Response r = http.post("/api/v1/batches", body.toString());

    assertThat(r.status()).as(r.body()).isEqualTo(400);
    List<String> writes = new ArrayList<>();
    r.json().get("errors").forEach(e -> writes.add(e.get("pointer").asText().split("/")[2]));
    assertThat(writes.stream().distinct()).containsExactly("5", "150", "200", "299");
    assertThat(writes).isSortedAccordingTo(Comparator.comparingInt(Integer::parseInt));
    assertThat(r.json().get("errors").toString()).contains("dt-7 is written twice in this batch");
    assertThat(storedVersions()).isZero();
    assertThat(revision()).isZero();
  }

  @Test
  void batchWithADanglingReferenceStoresNothing() {
    String body =
        """
        {"writes": [
          {"op": "upsert", "kind": "DROP_TABLE", "id": "dt-1", "payload": %s},
          {"op": "upsert", "kind": "TREASURE_LOCATION", "id": "loc-1", "payload": %s}
        ]}"""
            .formatted(dropTable("gold", 1), treasureLocation("zone-a", "dt-9"));

    assertThat(http.post("/api/v1/batches", body).status()).isEqualTo(409);
    assertThat(storedVersions()).isZero();
    assertThat(revision()).isZero();
  }

  @Test
  void idempotencyKeyReplayReturnsTheFirstResultAndWritesNothing() {
    String body =
        "{\"writes\":[{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-1\",\"payload\":"
            + dropTable("gold", 1)
            + "}]}";

    Response first = http.post("/api/v1/batches", body, "Idempotency-Key", "k-1");
    http.put(DT + "dt-1", dropTable("gold", 2)); // moves on in between
    Response replay = http.post("/api/v1/batches", body, "Idempotency-Key", "k-1");
    Response reused =
        http.post("/api/v1/batches", body.replace("gold", "iron"), "Idempotency-Key", "k-1");

    assertThat(replay.status()).isEqualTo(200);
    assertThat(replay.json()).isEqualTo(first.json());
    assertThat(revision()).isEqualTo(2);
    assertThat(reused.status()).isEqualTo(422);
    assertThat(revision()).isEqualTo(2);
  }

  @Test
  void aKeyedSingleDocumentWriteReplaysItsFirstAnswer() {
    Response first = http.put(DT + "dt-1", dropTable("gold", 1), "Idempotency-Key", "put-1");
    http.put(DT + "dt-1", dropTable("gold", 2)); // moves on in between
    Response replay = http.put(DT + "dt-1", dropTable("gold", 1), "Idempotency-Key", "put-1");
    Response reused = http.put(DT + "dt-1", dropTable("gold", 3), "Idempotency-Key", "put-1");
    // a conditional retire whose answer was lost: its retry under the key is not a 412
    Response retire = http.delete(DT + "dt-1", "If-Match", "\"2\"", "Idempotency-Key", "del-1");
    Response retried = http.delete(DT + "dt-1", "If-Match", "\"2\"", "Idempotency-Key", "del-1");
    Response badKey = http.put(DT + "dt-2", dropTable("gold", 1), "Idempotency-Key", "a b");

    assertThat(first.status()).isEqualTo(201);
    assertThat(replay.status()).isEqualTo(201);
    assertThat(replay.json()).isEqualTo(first.json());
    assertThat(replay.header("ETag")).contains("\"1\"");
    assertThat(reused.status()).isEqualTo(422);
    assertThat(retire.status()).isEqualTo(200);
    assertThat(retried.status()).isEqualTo(200);
    assertThat(retried.json()).isEqualTo(retire.json());
    assertThat(error(badKey)).isEqualTo("Idempotency-Key: must be 1-255 visible ASCII characters");
    assertThat(revision()).isEqualTo(3);
    assertThat(http.get(DT + "dt-1").json().get("status").asText()).isEqualTo("RETIRED");
  }

  @Test
  void batchOfNoOpsAnswersTheCurrentRevision() {
    http.put(DT + "dt-1", dropTable("gold", 1));
    String body =
        "{\"writes\":[{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-1\",\"payload\":"
            + dropTable("gold", 1)
            + "}]}";

    Response r = http.post("/api/v1/batches", body);

    assertThat(r.json().get("revision").asLong()).isEqualTo(1);
    assertThat(r.json().get("results").get(0).get("unchanged").asBoolean()).isTrue();
    assertThat(revision()).isEqualTo(1);
  }

  @Test
  void batchShapeErrorsAre400Or413() {
    StringBuilder many = new StringBuilder("{\"writes\":[");
    for (int i = 0; i < 1001; i++) {
      many.append(i == 0 ? "" : ",")
          .append("{\"op\":\"retire\",\"kind\":\"DROP_TABLE\",\"id\":\"d")
          .append(i)
          .append("\"}");
    }
    many.append("]}");
    String twice =
        "{\"writes\":[{\"op\":\"retire\",\"kind\":\"DROP_TABLE\",\"id\":\"a\"},"
            + "{\"op\":\"retire\",\"kind\":\"DROP_TABLE\",\"id\":\"a\"}]}";

    assertThat(http.post("/api/v1/batches", many.toString()).status()).isEqualTo(413);
    assertThat(http.post("/api/v1/batches", twice).status()).isEqualTo(400);
    assertThat(http.post("/api/v1/batches", "{\"writes\":[]}").status()).isEqualTo(400);
    assertThat(http.post("/api/v1/batches", "{}").status()).isEqualTo(400);
    Response badOp =
        http.post(
            "/api/v1/batches",
            "{\"writes\":[{\"op\":\"explode\",\"kind\":\"NOPE\",\"id\":\"a\"}]}");
    assertThat(badOp.status()).isEqualTo(400);
    assertThat(badOp.json().get("errors")).hasSize(2);
    assertThat(http.post("/api/v1/batches", "{\"writes\":[],\"extra\":1}").status()).isEqualTo(400);
  }

  @Test
  void batchCanRetireAReferrerTogetherWithWhatItReferences() {
    seedChain();
    String body =
        """
        {"writes": [
          {"op": "retire", "kind": "DROP_TABLE", "id": "dt-1"},
          {"op": "retire", "kind": "TREASURE_LOCATION", "id": "loc-1"},
          {"op": "retire", "kind": "SPAWN_RULE", "id": "sr-1", "ifMatch": 1}
        ]}""";

    Response r = http.post("/api/v1/batches", body);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("revision").asLong()).isEqualTo(4);
  }

  // --- GET /changes and /revision ----------------------------------------------------------------

  @Test
  void changesAreInRevisionOrderAndPagesKeepARevisionTogether() {
    http.put(DT + "dt-1", dropTable("gold", 1)); // r1
    String batch =
        "{\"writes\":["
            + "{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-2\",\"payload\":"
            + dropTable("a", 1)
            + "},{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-3\",\"payload\":"
            + dropTable("b", 1)
            + "},{\"op\":\"upsert\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-4\",\"payload\":"
            + dropTable("c", 1)
            + "}]}";
    http.post("/api/v1/batches", batch); // r2: three events
    http.delete(DT + "dt-1"); // r3

    JsonNode page = http.get("/api/v1/changes?afterRevision=0&limit=2").json();
    JsonNode rest =
        http.get("/api/v1/changes?afterRevision=" + page.get("revision").asLong()).json();

    assertThat(page.get("events")).hasSize(4); // r1 + all three of r2
    assertThat(page.get("revision").asLong()).isEqualTo(2);
    assertThat(rest.get("events")).hasSize(1);
    assertThat(rest.get("events").get(0).get("type").asText()).isEqualTo("RETIRED");
    assertThat(rest.get("events").get(0).get("version").asLong()).isEqualTo(2);
    assertThat(rest.get("revision").asLong()).isEqualTo(3);
    JsonNode event = page.get("events").get(0);
    assertThat(event.get("kind").asText()).isEqualTo("DROP_TABLE");
    assertThat(event.get("contentHash").asText()).matches("[0-9a-f]{64}");
  }

  @Test
  void changesFilterByKindAndRefuseBadRevisions() {
    seedChain();

    JsonNode locations = http.get("/api/v1/changes?kinds=TREASURE_LOCATION").json();

    assertThat(locations.get("events")).hasSize(1);
    assertThat(locations.get("revision").asLong()).isEqualTo(3);
    assertThat(http.get("/api/v1/changes?kinds=spawn-rules,DROP_TABLE").json().get("events"))
        .hasSize(2);
    assertThat(http.get("/api/v1/changes?afterRevision=99").status()).isEqualTo(400);
    assertThat(http.get("/api/v1/changes?afterRevision=-1").status()).isEqualTo(400);
    assertThat(http.get("/api/v1/changes?kinds=GOBLIN").status()).isEqualTo(400);
    assertThat(http.get("/api/v1/changes?afterRevision=3").json().get("events")).isEmpty();
  }

  @Test
  void revisionCountsCommittedWrites() {
    assertThat(revision()).isZero();
    seedChain();
    assertThat(revision()).isEqualTo(3);
  }

  @Test
  void servesOpenApi() {
    Response r = http.get("/v3/api-docs");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("paths").has("/api/v1/batches")).isTrue();
  }

  // --- concurrency -------------------------------------------------------------------------------

  @Test
  void parallelWritersOnOneDocumentGetGapFreeVersionsAndLoseNothing() throws Exception {
    int writers = 8;
    int writesEach = 25;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    List<Future<List<JsonNode>>> futures = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int writer = w;
      futures.add(
          pool.submit(
              () -> {
                List<JsonNode> acks = new ArrayList<>();
                for (int i = 0; i < writesEach; i++) {
                  Response r = http.put(DT + "hot", dropTable("w" + writer, i + 1));
                  assertThat(r.status()).as(r.body()).isIn(200, 201);
                  acks.add(r.json());
                }
                return acks;
              }));
    }
    List<JsonNode> acks = new ArrayList<>();
    for (Future<List<JsonNode>> f : futures) {
      acks.addAll(f.get(2, TimeUnit.MINUTES));
    }
    pool.shutdown();

    int total = writers * writesEach;
    assertThat(acks.stream().map(a -> a.get("version").asLong()).sorted().toList())
        .isEqualTo(LongStream.rangeClosed(1, total).boxed().toList());
    for (JsonNode ack : acks) {
      JsonNode stored = http.get(DT + "hot?version=" + ack.get("version").asLong()).json();
      assertThat(stored.get("contentHash")).isEqualTo(ack.get("contentHash"));
      assertThat(stored.get("revision")).isEqualTo(ack.get("revision"));
    }
    JsonNode changes = http.get("/api/v1/changes?limit=1000").json();
    List<Long> revisions = new ArrayList<>();
    changes.get("events").forEach(e -> revisions.add(e.get("revision").asLong()));
    assertThat(revisions).isEqualTo(LongStream.rangeClosed(1, total).boxed().toList());
    changes
        .get("events")
        .forEach(e -> assertThat(e.get("version").asLong()).isEqualTo(e.get("revision").asLong()));
  }

  @Test
  void compareAndSetIncrementsFromParallelClientsAreNeverLost() throws Exception {
    http.put(DT + "counter", dropTable("count", 1));
    int clients = 8;
    int incrementsEach = 5;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<Integer>> conflicts = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      conflicts.add(
          pool.submit(
              () -> {
                int seen412 = 0;
                for (int done = 0; done < incrementsEach; ) {
                  JsonNode current = http.get(DT + "counter").json();
                  int weight = current.get("payload").get("entries").get(0).get("weight").asInt();
                  Response r =
                      http.put(
                          DT + "counter",
                          dropTable("count", weight + 1),
                          "If-Match",
                          "\"" + current.get("version").asLong() + "\"");
                  if (r.status() == 412) {
                    seen412++;
                  } else {
                    assertThat(r.status()).as(r.body()).isEqualTo(200);
                    done++;
                  }
                }
                return seen412;
              }));
    }
    for (Future<Integer> f : conflicts) {
      f.get(2, TimeUnit.MINUTES);
    }
    pool.shutdown();

    JsonNode last = http.get(DT + "counter").json();
    assertThat(last.get("payload").get("entries").get(0).get("weight").asInt())
        .isEqualTo(1 + clients * incrementsEach);
    assertThat(last.get("version").asLong()).isEqualTo(1 + clients * incrementsEach);
  }

  static List<String> ids(JsonNode page) {
    List<String> ids = new ArrayList<>();
    page.get("items").forEach(d -> ids.add(d.get("id").asText()));
    return ids;
  }

  static List<Long> versions(JsonNode page) {
    List<Long> versions = new ArrayList<>();
    page.get("items").forEach(d -> versions.add(d.get("version").asLong()));
    return versions;
  }
}
