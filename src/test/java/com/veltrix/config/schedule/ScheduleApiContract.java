package com.veltrix.config.schedule;

import static com.veltrix.config.support.Payloads.dropTable;
import static com.veltrix.config.support.Payloads.treasureLocation;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Timestamp;
import com.veltrix.config.catalog.schedule.ScheduleStore;
import com.veltrix.config.grpc.v1.ConfigKind;
import com.veltrix.config.grpc.v1.ConfigRef;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.grpc.v1.GetConfigsResponse;
import com.veltrix.config.grpc.v1.ListActiveRequest;
import com.veltrix.config.grpc.v1.ListActiveResponse;
import com.veltrix.config.grpc.v1.ListSchedulesRequest;
import com.veltrix.config.grpc.v1.ListSchedulesResponse;
import com.veltrix.config.grpc.v1.ScheduleStatus;
import com.veltrix.config.grpc.v1.WatchChangesRequest;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.Http.Response;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import com.veltrix.config.support.WrapDataSource;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Scheduled changes and reads as of a time, over real HTTP and the real gRPC server (issue 15):
 * creation and its refusals, listing, cancelling, applying within a second of applyAt, a schedule
 * that fails at its writing revision, past and future {@code atTime}. Run against PostgreSQL and
 * CockroachDB.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"management.server.port=0", "veltrix.schedules.poll-interval=100ms"})
@Import(ScheduleApiContract.LoseMarks.class)
// closed after the class: its 100 ms applier would otherwise poll through every later suite
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
abstract class ScheduleApiContract {

  /** When armed, the next "mark APPLIED" fails as a pod dying right after its batch committed. */
  static final AtomicBoolean DIE_BEFORE_MARKING = new AtomicBoolean();

  @TestConfiguration
  static class LoseMarks {
    @Bean
    static BeanPostProcessor dieBeforeMarking() {
      return new BeanPostProcessor() {
        @Override
        public Object postProcessAfterInitialization(Object bean, String name) {
          if (!(bean instanceof ScheduleStore store)) {
            return bean;
          }
          return WrapDataSource.around(
              ScheduleStore.class,
              store,
              (method, args, call) -> {
                if (method.getName().equals("markApplied")
                    && DIE_BEFORE_MARKING.compareAndSet(true, false)) {
                  throw new IllegalStateException("the pod died after its batch committed");
                }
                return call.proceed();
              });
        }
      };
    }
  }

  static final String DT = "/api/v1/drop-tables/";
  static final String TL = "/api/v1/treasure-locations/";

  /** Each concrete test adds its database. */
  @DynamicPropertySource
  static void ports(DynamicPropertyRegistry registry) {
    FreePort.register(registry, "grpc.server.port");
  }

  @LocalServerPort int port;

  @Value("${grpc.server.port}")
  int grpcPort;

  @Autowired JdbcClient jdbc;
  Http http;
  ManagedChannel channel;
  ConfigServiceGrpc.ConfigServiceBlockingStub grpc;

  @BeforeEach
  void setUp() {
    TestDatabase.reset(jdbc);
    http = new Http(port);
    channel = ManagedChannelBuilder.forAddress("localhost", grpcPort).usePlaintext().build();
    grpc =
        ConfigServiceGrpc.newBlockingStub(channel)
            .withCallCredentials(Tokens.bearer(Tokens.admin()));
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  static String upsert(String kind, String id, String payload) {
    return "{\"op\":\"upsert\",\"kind\":\""
        + kind
        + "\",\"id\":\""
        + id
        + "\",\"payload\":"
        + payload
        + "}";
  }

  static String retire(String kind, String id) {
    return "{\"op\":\"retire\",\"kind\":\"" + kind + "\",\"id\":\"" + id + "\"}";
  }

  static String schedule(Instant applyAt, String... writes) {
    return "{\"applyAt\":\""
        + applyAt
        + "\",\"description\":\"holiday drops\",\"writes\":["
        + String.join(",", writes)
        + "]}";
  }

  Response create(Instant applyAt, String... writes) {
    return http.post("/api/v1/schedules", schedule(applyAt, writes));
  }

  JsonNode awaitStatus(String id, String status, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    JsonNode s;
    do {
      s = http.get("/api/v1/schedules/" + id).json();
      if (s.get("status").asText().equals(status)) {
        return s;
      }
      Thread.sleep(20);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("schedule " + id + " is " + s + ", not " + status);
  }

  long versions() {
    return jdbc.sql("SELECT count(*) FROM document_versions").query(Long.class).single();
  }

  long schedules() {
    return jdbc.sql("SELECT count(*) FROM schedules").query(Long.class).single();
  }

  Instant committedAt(long revision) {
    return jdbc.sql("SELECT committed_at FROM revision_times WHERE revision = :r")
        .param("r", revision)
        .query(java.sql.Timestamp.class)
        .single()
        .toInstant();
  }

  // --- creating ---------------------------------------------------------------------------------

  @Test
  void badSchedulesAre400WithPointersAndStoreNothing() {
    Instant soon = Instant.now().plusSeconds(60);
    List<String[]> cases = new ArrayList<>();
    cases.add(
        new String[] {
          "{\"writes\":[" + upsert("DROP_TABLE", "dt-1", dropTable("a", 1)) + "]}", "/applyAt"
        });
    cases.add(
        new String[] {
          schedule(Instant.now().minusSeconds(5), upsert("DROP_TABLE", "dt-1", dropTable("a", 1))),
          "/applyAt"
        });
    cases.add(
        new String[] {
          schedule(
              Instant.now().plus(Duration.ofDays(400)),
              upsert("DROP_TABLE", "dt-1", dropTable("a", 1))),
          "/applyAt"
        });
    cases.add(new String[] {"{\"applyAt\":\"tomorrow\",\"writes\":[]}", "/applyAt"});
    cases.add(
        new String[] {
          schedule(soon, upsert("DROP_TABLE", "dt-1", "{\"rolls\":0,\"entries\":[]}")),
          "/writes/0/payload/rolls"
        });
    cases.add(new String[] {schedule(soon), "/writes"});
    cases.add(
        new String[] {
          schedule(
              soon,
              upsert("DROP_TABLE", "dt-1", dropTable("a", 1)),
              upsert("DROP_TABLE", "dt-1", dropTable("b", 1))),
          "/writes/1/id"
        });
    for (String[] c : cases) {
      Response r = http.post("/api/v1/schedules", c[0]);
      assertThat(r.status()).as(c[0] + " -> " + r.body()).isEqualTo(400);
      assertThat(r.body()).as(c[0]).contains(c[1]);
    }
    Response reserved =
        http.post(
            "/api/v1/batches",
            "{\"writes\":[" + upsert("DROP_TABLE", "dt-1", dropTable("a", 1)) + "]}",
            "Idempotency-Key",
            "veltrix-schedule:anything");
    assertThat(reserved.status()).isEqualTo(400);
    assertThat(schedules()).isZero();
    assertThat(versions()).isZero();
  }

  @Test
  void aScheduleIsCreatedListedAndCancelledOnceWithItsCreatorAndKey() throws Exception {
    Instant at = Instant.now().plusSeconds(3600);
    String body = schedule(at, upsert("DROP_TABLE", "dt-1", dropTable("gold", 1)));
    Response created = http.post("/api/v1/schedules", body, "Idempotency-Key", "event-1");
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    JsonNode s = created.json();
    String id = s.get("id").asText();
    assertThat(created.header("Location")).contains("/api/v1/schedules/" + id);
    assertThat(s.get("status").asText()).isEqualTo("PENDING");
    assertThat(s.get("createdBy").asText()).isEqualTo("test-admin");
    assertThat(s.get("writes").get(0).get("payload").toString()).contains("gold");

    Response replay = http.post("/api/v1/schedules", body, "Idempotency-Key", "event-1");
    assertThat(replay.json().get("id").asText()).isEqualTo(id);
    Response reused =
        http.post(
            "/api/v1/schedules",
            schedule(at.plusSeconds(1), upsert("DROP_TABLE", "dt-1", dropTable("gold", 1))),
            "Idempotency-Key",
            "event-1");
    assertThat(reused.status()).isEqualTo(422);
    assertThat(schedules()).isEqualTo(1);

    Response later = create(at.plusSeconds(60), retire("DROP_TABLE", "dt-9"));
    assertThat(later.status()).isEqualTo(201);
    JsonNode pending = http.get("/api/v1/schedules?status=PENDING&limit=1").json();
    assertThat(pending.get("items").get(0).get("id").asText()).isEqualTo(id);
    JsonNode second =
        http.get(
                "/api/v1/schedules?status=PENDING&limit=1&pageToken="
                    + pending.get("nextPageToken").asText())
            .json();
    assertThat(second.get("items").get(0).get("id").asText())
        .isEqualTo(later.json().get("id").asText());
    assertThat(second.has("nextPageToken")).as("SchedulesPage leaves it out").isFalse();
    assertThat(http.get("/api/v1/schedules?from=" + at.plusSeconds(1)).json().get("items"))
        .hasSize(1);
    assertThat(http.get("/api/v1/schedules?status=soon").status()).isEqualTo(400);
    assertThat(http.get("/api/v1/schedules/nope").status()).isEqualTo(404);

    String writer =
        Tokens.mint("writer", "configs:read configs:write", Duration.ofMinutes(5), Tokens.SECRET);
    assertThat(
            http.delete(
                    "/api/v1/schedules/" + later.json().get("id").asText(),
                    "Authorization",
                    "Bearer " + writer)
                .status())
        .as("a schedule that retires needs configs:admin to cancel")
        .isEqualTo(403);
    Response cancelled =
        http.delete(
            "/api/v1/schedules/" + id,
            "Authorization",
            "Bearer " + writer,
            "X-Request-Id",
            "cancel-holiday-1");
    assertThat(cancelled.status()).as(cancelled.body()).isEqualTo(200);
    assertThat(cancelled.json().get("status").asText()).isEqualTo("CANCELLED");
    assertThat(cancelled.json().get("finishedBy").asText()).isEqualTo("writer");
    assertThat(cancelled.json().get("finishedRequestId").asText()).isEqualTo("cancel-holiday-1");
    assertThat(http.delete("/api/v1/schedules/" + id).status()).isEqualTo(409);

    ListSchedulesResponse listed =
        grpc.listSchedules(
            ListSchedulesRequest.newBuilder()
                .setStatus(ScheduleStatus.SCHEDULE_STATUS_CANCELLED)
                .build());
    assertThat(listed.getSchedulesList()).hasSize(1);
    assertThat(listed.getSchedules(0).getId()).isEqualTo(id);
    assertThat(listed.getSchedules(0).getWrites(0).getPayloadJson()).contains("gold");
  }

  // --- applying ---------------------------------------------------------------------------------

  @Test
  void aDueScheduleIsAppliedOnceWithinASecondAsAnOrdinaryRevision() throws Exception {
    http.put(DT + "dt-1", dropTable("iron", 1));
    Instant at = Instant.now().plusSeconds(2);
    Response created =
        create(
            at,
            upsert("DROP_TABLE", "dt-1", dropTable("holiday", 5)),
            upsert("TREASURE_LOCATION", "loc-1", treasureLocation("zone-a", "dt-1")));
    String id = created.json().get("id").asText();

    JsonNode applied = awaitStatus(id, "APPLIED", Duration.ofSeconds(10));
    long revision = applied.get("revision").asLong();
    assertThat(revision).isEqualTo(2);
    Duration late = Duration.between(at, committedAt(revision));
    assertThat(late)
        .as("applied %s after applyAt", late)
        .isBetween(Duration.ZERO, Duration.ofSeconds(1));

    JsonNode doc = http.get(DT + "dt-1").json();
    assertThat(doc.get("version").asLong()).isEqualTo(2);
    assertThat(doc.get("updatedBy").asText()).isEqualTo("test-admin");
    assertThat(doc.get("requestId").asText()).isEqualTo(id);
    JsonNode changes = http.get("/api/v1/changes?afterRevision=1").json();
    assertThat(changes.get("events")).hasSize(2);
    assertThat(Instant.parse(changes.get("events").get(0).get("committedAt").asText()))
        .isEqualTo(committedAt(revision));

    Iterator<WatchChangesResponse> watch =
        grpc.withDeadlineAfter(5, TimeUnit.SECONDS)
            .watchChanges(WatchChangesRequest.newBuilder().setAfterRevision(1).build());
    WatchChangesResponse event = watch.next();
    assertThat(event.getRevision()).isEqualTo(2);
    assertThat(event.getCommittedAt().getSeconds())
        .isEqualTo(committedAt(revision).getEpochSecond());

    Thread.sleep(500); // every later poll of this pod finds it APPLIED
    assertThat(versions()).isEqualTo(3);
    assertThat(http.delete("/api/v1/schedules/" + id).status()).isEqualTo(409);
  }

  @Test
  void aScheduleWhoseApplierDiedAfterCommittingIsMarkedByTheNextAttemptWithoutASecondWrite()
      throws Exception {
    DIE_BEFORE_MARKING.set(true);
    Response created =
        create(Instant.now().plusMillis(500), upsert("DROP_TABLE", "dt-1", dropTable("gold", 1)));
    String id = created.json().get("id").asText();

    JsonNode applied = awaitStatus(id, "APPLIED", Duration.ofSeconds(10));

    assertThat(DIE_BEFORE_MARKING).as("the first attempt died after its commit").isFalse();
    assertThat(applied.get("revision").asLong()).isEqualTo(1);
    assertThat(versions()).isEqualTo(1);
    assertThat(http.get("/api/v1/revision").json().get("revision").asLong()).isEqualTo(1);
  }

  @Test
  void aScheduleWhoseReferenceWasRetiredMeanwhileFailsAndWritesNothing() throws Exception {
    http.put(DT + "dt-1", dropTable("iron", 1));
    Response created =
        create(
            Instant.now().plusSeconds(1),
            upsert("TREASURE_LOCATION", "loc-1", treasureLocation("zone-a", "dt-1")));
    String id = created.json().get("id").asText();
    assertThat(http.delete(DT + "dt-1").status()).isEqualTo(200);
    long before = versions();

    JsonNode failed = awaitStatus(id, "FAILED", Duration.ofSeconds(10));
    assertThat(failed.get("problem").get("reason").asText()).isEqualTo("REFERENCE_CONFLICT");
    assertThat(failed.get("problem").get("status").asInt()).isEqualTo(409);
    assertThat(failed.get("problem").get("detail").asText()).contains("DROP_TABLE/dt-1");
    assertThat(failed.has("revision")).isFalse();
    Thread.sleep(300);
    assertThat(versions()).isEqualTo(before);
    assertThat(http.get(TL + "loc-1").status()).isEqualTo(404);
  }

  @Test
  void aCancelledScheduleIsNeverApplied() throws Exception {
    Response created =
        create(Instant.now().plusMillis(700), upsert("DROP_TABLE", "dt-1", dropTable("gold", 1)));
    String id = created.json().get("id").asText();
    assertThat(http.delete("/api/v1/schedules/" + id).status()).isEqualTo(200);
    Thread.sleep(1200);
    assertThat(http.get("/api/v1/schedules/" + id).json().get("status").asText())
        .isEqualTo("CANCELLED");
    assertThat(versions()).isZero();
  }

  // --- as of a time -----------------------------------------------------------------------------

  @Test
  void aPastTimeReadsWhatAtRevisionGivesForTheRevisionThenCurrent() {
    http.put(DT + "dt-1", dropTable("iron", 1));
    http.put(DT + "dt-2", dropTable("copper", 1));
    Instant between = committedAt(2).plusNanos(1_000);
    http.put(DT + "dt-1", dropTable("gold", 2));
    http.delete(DT + "dt-2");

    Response byTime = http.get(DT + "dt-1?atTime=" + between);
    assertThat(byTime.status()).isEqualTo(200);
    assertThat(byTime.header("X-Config-Revision")).contains("2");
    assertThat(byTime.json()).isEqualTo(http.get(DT + "dt-1?atRevision=2").json());
    assertThat(http.get("/api/v1/drop-tables?atTime=" + between).json())
        .isEqualTo(http.get("/api/v1/drop-tables?atRevision=2").json());
    assertThat(http.get(DT + "dt-1?atTime=" + committedAt(1).minusMillis(1)).status())
        .as("before the document existed")
        .isEqualTo(404);
    assertThat(http.get(DT + "dt-1?atTime=" + between + "&atRevision=2").status()).isEqualTo(400);
    assertThat(http.get(DT + "dt-1?atTime=yesterday").status()).isEqualTo(400);
    assertThat(http.get("/api/v1/revision?atTime=" + between).json().get("revision").asLong())
        .isEqualTo(2);
    assertThat(http.get("/api/v1/revision?atTime=" + Instant.now().plusSeconds(60)).json())
        .isEqualTo(http.get("/api/v1/revision").json());

    GetConfigsResponse fetched =
        grpc.getConfigs(
            GetConfigsRequest.newBuilder()
                .addRefs(
                    ConfigRef.newBuilder().setKind(ConfigKind.CONFIG_KIND_DROP_TABLE).setId("dt-1"))
                .addRefs(
                    ConfigRef.newBuilder().setKind(ConfigKind.CONFIG_KIND_DROP_TABLE).setId("dt-2"))
                .setAtTime(timestamp(between))
                .build());
    assertThat(fetched.getRevision()).isEqualTo(2);
    assertThat(fetched.getConfigsList()).extracting(c -> c.getVersion()).containsExactly(1L, 1L);
    Iterator<ListActiveResponse> manifest =
        grpc.listActive(ListActiveRequest.newBuilder().setAtTime(timestamp(between)).build());
    ListActiveResponse first = manifest.next();
    assertThat(first.getRevision()).isEqualTo(2);
    assertThat(first.getEntriesCount()).isEqualTo(2);
  }

  @Test
  void aFutureTimePreviewsWhatIsServedAfterTheScheduleApplies() throws Exception {
    http.put(DT + "dt-1", dropTable("iron", 1));
    http.put(DT + "dt-2", dropTable("copper", 1));
    Instant at = Instant.now().plusSeconds(2);
    String id =
        create(
                at,
                upsert("DROP_TABLE", "dt-1", dropTable("holiday", 7)),
                retire("DROP_TABLE", "dt-2"),
                upsert("DROP_TABLE", "dt-0", dropTable("new", 1)))
            .json()
            .get("id")
            .asText();
    String failing =
        create(
                at.plusMillis(10),
                upsert("TREASURE_LOCATION", "loc-1", treasureLocation("z", "dt-2")))
            .json()
            .get("id")
            .asText();
    Instant after = at.plusSeconds(1);

    Response preview = http.get(DT + "dt-1?atTime=" + after);
    assertThat(preview.status()).as(preview.body()).isEqualTo(200);
    assertThat(preview.header("X-Config-Assumed-Schedules"))
        .as("the schedule referring to a retired table would fail: not assumed")
        .contains(id);
    JsonNode list = http.get("/api/v1/drop-tables?status=ACTIVE&limit=1&atTime=" + after).json();
    JsonNode page2 =
        http.get(
                "/api/v1/drop-tables?status=ACTIVE&limit=1&atTime="
                    + after
                    + "&pageToken="
                    + list.get("nextPageToken").asText())
            .json();
    assertThat(list.get("assumedSchedules").get(0).asText()).isEqualTo(id);
    assertThat(page2.get("nextPageToken").isNull()).as(list + "\n" + page2).isTrue();
    assertThat(http.get(TL + "loc-1?atTime=" + after).status()).isEqualTo(404);
    List<String> previewManifest = manifest(after);
    GetConfigsResponse previewFetch =
        grpc.getConfigs(
            GetConfigsRequest.newBuilder()
                .addRefs(
                    ConfigRef.newBuilder().setKind(ConfigKind.CONFIG_KIND_DROP_TABLE).setId("dt-1"))
                .setAtTime(timestamp(after))
                .build());
    assertThat(previewFetch.getAssumedScheduleIdsList()).containsExactly(id);

    awaitStatus(id, "APPLIED", Duration.ofSeconds(10));
    awaitStatus(failing, "FAILED", Duration.ofSeconds(10));
    JsonNode served = http.get(DT + "dt-1").json();
    JsonNode previewed = preview.json();
    for (String field :
        List.of("version", "status", "contentHash", "payload", "updatedBy", "requestId")) {
      assertThat(previewed.get(field)).as(field).isEqualTo(served.get(field));
    }
    JsonNode current = http.get("/api/v1/drop-tables?status=ACTIVE").json();
    List<String> ids = new ArrayList<>();
    list.get("items").forEach(i -> ids.add(i.get("id").asText() + "@" + i.get("version").asLong()));
    page2
        .get("items")
        .forEach(i -> ids.add(i.get("id").asText() + "@" + i.get("version").asLong()));
    List<String> now = new ArrayList<>();
    current
        .get("items")
        .forEach(i -> now.add(i.get("id").asText() + "@" + i.get("version").asLong()));
    assertThat(ids).isEqualTo(now).containsExactly("dt-0@1", "dt-1@2");
    assertThat(previewManifest).isEqualTo(manifest(Instant.now().plusSeconds(3600)));
    assertThat(previewFetch.getConfigs(0).getContentHash())
        .isEqualTo(served.get("contentHash").asText());
  }

  List<String> manifest(Instant at) {
    List<String> entries = new ArrayList<>();
    grpc.listActive(ListActiveRequest.newBuilder().setAtTime(timestamp(at)).build())
        .forEachRemaining(
            m ->
                m.getEntriesList()
                    .forEach(
                        e ->
                            entries.add(
                                e.getId() + "@" + e.getVersion() + " " + e.getContentHash())));
    return entries;
  }

  @Test
  void grpcRefusesBadTimes() {
    StatusRuntimeException both =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () ->
                grpc.listActive(
                        ListActiveRequest.newBuilder()
                            .setAtRevision(1)
                            .setAtTime(timestamp(Instant.now()))
                            .build())
                    .next());
    assertThat(both.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(both.getStatus().getDescription()).contains("at_time");
    StatusRuntimeException page =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () -> grpc.listSchedules(ListSchedulesRequest.newBuilder().setPageSize(5000).build()));
    assertThat(page.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(page.getStatus().getDescription()).contains("page_size");
  }

  static Timestamp timestamp(Instant at) {
    return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
  }
}
