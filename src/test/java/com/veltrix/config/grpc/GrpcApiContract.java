package com.veltrix.config.grpc;

import static com.veltrix.config.support.Payloads.dropTable;
import static com.veltrix.config.support.Payloads.treasureLocation;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.PreconditionFailure;
import com.veltrix.config.grpc.v1.ConfigKind;
import com.veltrix.config.grpc.v1.ConfigRef;
import com.veltrix.config.grpc.v1.ConfigWrite;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.grpc.v1.GetConfigsResponse;
import com.veltrix.config.grpc.v1.ListActiveRequest;
import com.veltrix.config.grpc.v1.ListActiveResponse;
import com.veltrix.config.grpc.v1.PutConfigsRequest;
import com.veltrix.config.grpc.v1.PutConfigsResponse;
import com.veltrix.config.grpc.v1.WatchChangesRequest;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.grpc.v1.WriteOp;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The gRPC contract over the real server: every call, its statuses, streaming and deadlines; run
 * against PostgreSQL ({@link GrpcApiPostgresTest}) and CockroachDB ({@link GrpcApiCockroachTest}).
 */
abstract class GrpcApiContract extends GrpcTestBase {

  static final Metadata.Key<String> REQUEST_ID =
      Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);

  @Autowired ChangeStreams changeStreams;

  static ConfigWrite upsert(ConfigKind kind, String id, String payload) {
    return ConfigWrite.newBuilder()
        .setOp(WriteOp.WRITE_OP_UPSERT)
        .setKind(kind)
        .setId(id)
        .setPayloadJson(payload)
        .build();
  }

  PutConfigsResponse put(ConfigWrite... writes) {
    return blocking.putConfigs(
        PutConfigsRequest.newBuilder().addAllWrites(List.of(writes)).build());
  }

  long revision() {
    return http.get("/api/v1/revision").json().get("revision").asLong();
  }

  static Status.Code code(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
    throw new AssertionError("the call succeeded");
  }

  // --- PutConfigs -------------------------------------------------------------------------------

  @Test
  void putConfigsWritesOneBatchAtOneRevisionAndReplaysByKey() {
    PutConfigsRequest request =
        PutConfigsRequest.newBuilder()
            .addWrites(
                upsert(
                    ConfigKind.CONFIG_KIND_TREASURE_LOCATION,
                    "loc-1",
                    treasureLocation("z", "dt-1")))
            .addWrites(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 1)))
            .setIdempotencyKey("grpc-key-1")
            .build();

    PutConfigsResponse first = blocking.putConfigs(request);
    PutConfigsResponse replay = blocking.putConfigs(request);

    assertThat(first.getRevision()).isEqualTo(1);
    assertThat(first.getResultsList()).hasSize(2);
    assertThat(first.getResults(0).getDocument().getRevision()).isEqualTo(1);
    assertThat(replay).isEqualTo(first);
    assertThat(revision()).isEqualTo(1);
    assertThat(
            put(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 1)))
                .getResults(0)
                .getUnchanged())
        .isTrue();
  }

  /** Writes one drop table, sending {@code requestId} (null: none); answers the trailers too. */
  Metadata[] putOneWithRequestId(String requestId) {
    AtomicReference<Metadata> headers = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    Metadata sent = new Metadata();
    if (requestId != null) {
      sent.put(REQUEST_ID, requestId);
    }
    try {
      blocking
          .withInterceptors(
              MetadataUtils.newAttachHeadersInterceptor(sent),
              MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
          .putConfigs(
              PutConfigsRequest.newBuilder()
                  .addWrites(
                      upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 1)))
                  .build());
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription()).startsWith("x-request-id: ");
    }
    return new Metadata[] {headers.get(), trailers.get()};
  }

  @Test
  void refusalsCarryErrorInfoAndWhatFailedAsStandardDetails() {
    put(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 1)));
    StatusRuntimeException stale =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () ->
                put(
                    upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 2))
                        .toBuilder()
                        .setIfMatchVersion(9)
                        .build()));
    StatusRuntimeException dangling =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () ->
                put(
                    upsert(
                        ConfigKind.CONFIG_KIND_TREASURE_LOCATION,
                        "loc-9",
                        treasureLocation("z", "nope"))));
    StatusRuntimeException invalid =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () -> put(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-2", "{\"rolls\": 0}")));

    ErrorInfo cas = detail(stale, ErrorInfo.class);
    assertThat(cas.getDomain()).isEqualTo("veltrix.config");
    assertThat(cas.getReason()).isEqualTo("VERSION_MISMATCH");
    assertThat(cas.getMetadataMap()).containsEntry("currentVersion", "1");
    assertThat(detail(stale, PreconditionFailure.class).getViolations(0).getType())
        .isEqualTo("VERSION");
    assertThat(detail(dangling, ErrorInfo.class).getReason()).isEqualTo("REFERENCE_CONFLICT");
    assertThat(detail(dangling, PreconditionFailure.class).getViolationsList())
        .extracting(PreconditionFailure.Violation::getSubject)
        .containsExactly("DROP_TABLE/nope");
    assertThat(detail(invalid, ErrorInfo.class).getReason()).isEqualTo("INVALID_INPUT");
    assertThat(badRequest(invalid).getFieldViolationsCount()).isPositive();
    assertThat(revision()).isEqualTo(1);
  }

  @Test
  void theCallersRequestIdIsReturnedAndStoredWithEveryVersionItWrites() {
    Metadata headers = putOneWithRequestId("flink-job-7:42")[0];

    assertThat(headers.get(REQUEST_ID)).isEqualTo("flink-job-7:42");
    assertThat(jdbc.sql("SELECT request_id FROM document_versions").query(String.class).list())
        .containsExactly("flink-job-7:42");
  }

  @Test
  void withoutARequestIdTheCallGetsOneAndIsToldIt() {
    String id = putOneWithRequestId(null)[0].get(REQUEST_ID);

    assertThat(id).isNotBlank();
    assertThat(jdbc.sql("SELECT request_id FROM document_versions").query(String.class).single())
        .isEqualTo(id);
  }

  @Test
  void aMalformedRequestIdIsInvalidArgumentAndWritesNothing() {
    Metadata[] answer = putOneWithRequestId("x".repeat(129));

    assertThat(answer[0]).as("no headers: refused before the call ran").isNull();
    assertThat(answer[1].get(REQUEST_ID)).isNotBlank().hasSizeLessThan(129);
    assertThat(revision()).isZero();
  }

  @Test
  void idempotencyKeysFollowTheRestRuleAndABadOneWritesNothing() {
    for (String key : new String[] {"k".repeat(256), "has space", "caf\u00e9"}) {
      StatusRuntimeException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class,
              () ->
                  blocking.putConfigs(
                      PutConfigsRequest.newBuilder()
                          .addWrites(
                              upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("g", 1)))
                          .setIdempotencyKey(key)
                          .build()));

      assertThat(e.getStatus().getCode()).as(key).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(badRequest(e).getFieldViolations(0).getField()).isEqualTo("idempotency_key");
    }
    assertThat(revision()).isZero();
    assertThat(jdbc.sql("SELECT count(*) FROM idempotency_records").query(Long.class).single())
        .isZero();
  }

  @Test
  void invalidPayloadsAreInvalidArgumentWithFieldViolationsAndWriteNothing() {
    StatusRuntimeException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () ->
                put(
                    upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 1)),
                    upsert(
                        ConfigKind.CONFIG_KIND_DROP_TABLE,
                        "dt-2",
                        "{\"rolls\": 0, \"entries\": []}")));
    StatusRuntimeException malformed =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () -> put(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-3", "{\"rolls\": [1, 2}")));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    BadRequest details = badRequest(e);
    assertThat(details.getFieldViolationsList())
        .extracting(BadRequest.FieldViolation::getField)
        .containsOnly("writes[1].payload_json");
    assertThat(badRequest(malformed).getFieldViolations(0).getField())
        .isEqualTo("writes[0].payload_json");
    assertThat(badRequest(malformed).getFieldViolations(0).getDescription())
        .isEqualTo(
            "malformed JSON: Unexpected close marker '}': expected ']'"
                + " (for Array starting at line 1, column 11) (line 1, column 16)");
    assertThat(details.getFieldViolationsList())
        .extracting(BadRequest.FieldViolation::getDescription)
        .anyMatch(d -> d.startsWith("/rolls: "));
    assertThat(revision()).isZero();
    assertThat(e.getStatus().getDescription()).doesNotContain("Exception", "\tat ");
  }

  @Test
  void aLargeBatchNamesEveryBadWriteInItsOrderAndWritesNothing() {
    // one answer names every bad write, in the batch's order, from its first to its last
    ConfigWrite[] writes = new ConfigWrite[300];
    for (int i = 0; i < writes.length; i++) {
      writes[i] = upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-" + i, dropTable("gold", 1));
    }
    String noRolls = "{\"rolls\": 0, \"entries\": []}";
    for (int i : new int[] {3, 150, 151, 299}) {
      writes[i] = upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-" + i, noRolls);
    }
    writes[200] = upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-7", dropTable("again", 1));
    ConfigWrite[] malformed = writes.clone();
    malformed[40] = upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-40", "{\"rolls\": [1, 2}");
    malformed[260] = upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-260", "{");

    StatusRuntimeException invalid =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class, () -> put(writes));
    StatusRuntimeException unparsed =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class, () -> put(malformed));

    assertThat(invalid.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(
            badRequest(invalid).getFieldViolationsList().stream()
                .map(BadRequest.FieldViolation::getField)
                .distinct()) // a write may break several rules
        .containsExactly(
            "writes[3].payload_json",
            "writes[150].payload_json",
            "writes[151].payload_json",
            "writes[200].id",
            "writes[299].payload_json");
    assertThat(badRequest(unparsed).getFieldViolationsList())
        .as("JSON is parsed before any payload is checked")
        .extracting(BadRequest.FieldViolation::getField)
        .containsExactly("writes[40].payload_json", "writes[260].payload_json");
    assertThat(revision()).isZero();
  }

  @Test
  void badWritesGetTheStatusDesignMdNames() {
    put(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 1)));
    ConfigWrite unspecifiedKind =
        upsert(ConfigKind.CONFIG_KIND_UNSPECIFIED, "x", dropTable("a", 1));
    ConfigWrite unknownKind = unspecifiedKind.toBuilder().setKindValue(42).build();
    ConfigWrite noOp =
        upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "x", dropTable("a", 1)).toBuilder()
            .setOp(WriteOp.WRITE_OP_UNSPECIFIED)
            .build();
    ConfigWrite badId = upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "", dropTable("a", 1));
    ConfigWrite stale =
        upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 2)).toBuilder()
            .setIfMatchVersion(9)
            .build();
    ConfigWrite dangling =
        upsert(ConfigKind.CONFIG_KIND_TREASURE_LOCATION, "loc-9", treasureLocation("z", "nope"));
    PutConfigsRequest.Builder tooMany = PutConfigsRequest.newBuilder();
    for (int i = 0; i < 1001; i++) {
      tooMany.addWrites(
          ConfigWrite.newBuilder()
              .setOp(WriteOp.WRITE_OP_RETIRE)
              .setKind(ConfigKind.CONFIG_KIND_DROP_TABLE)
              .setId("d" + i));
    }

    assertThat(code(() -> put(unspecifiedKind))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(code(() -> put(unknownKind))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(code(() -> put(noOp))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(code(() -> put(badId))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(
            code(
                () ->
                    put(
                        upsert(
                            ConfigKind.CONFIG_KIND_DROP_TABLE,
                            "x",
                            "{\"rolls\":8E8888880888889}"))))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(code(() -> put(stale))).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(code(() -> put(dangling))).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(code(() -> blocking.putConfigs(tooMany.build())))
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(code(() -> blocking.putConfigs(PutConfigsRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(revision()).isEqualTo(1);
  }

  @Test
  void oversizedMessagesAreResourceExhausted() {
    String huge = "{\"rolls\":1,\"entries\":[],\"pad\":\"" + "x".repeat(9 * 1024 * 1024) + "\"}";

    assertThat(code(() -> put(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "big", huge))))
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(revision()).isZero();
  }

  // --- GetConfigs -------------------------------------------------------------------------------

  @Test
  void getConfigsReturnsFoundAndMissingWithPayloadBytesAsRestReturnsThem() {
    put(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 1)));
    put(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 2)));

    GetConfigsResponse response =
        blocking.getConfigs(
            GetConfigsRequest.newBuilder()
                .addRefs(ref(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", 1))
                .addRefs(ref(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", 0))
                .addRefs(ref(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", 3))
                .addRefs(ref(ConfigKind.CONFIG_KIND_SPAWN_RULE, "nope", 0))
                .build());

    assertThat(response.getConfigsList()).extracting(c -> c.getVersion()).containsExactly(1L, 2L);
    assertThat(response.getMissingList())
        .extracting(ConfigRef::getId)
        .containsExactly("dt-1", "nope");
    String rest = http.get("/api/v1/drop-tables/dt-1").body();
    assertThat(rest).endsWith("\"payload\":" + response.getConfigs(1).getPayloadJson() + "}");
    assertThat(response.getConfigs(0).getUpdatedAt().getSeconds()).isPositive();
  }

  @Test
  void getConfigsRefusesBadRefs() {
    GetConfigsRequest.Builder tooMany = GetConfigsRequest.newBuilder();
    for (int i = 0; i < 1001; i++) {
      tooMany.addRefs(ref(ConfigKind.CONFIG_KIND_DROP_TABLE, "d" + i, 0));
    }

    assertThat(code(() -> blocking.getConfigs(tooMany.build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    for (ConfigRef bad :
        List.of(
            ref(ConfigKind.CONFIG_KIND_DROP_TABLE, "bad id", 0),
            ref(ConfigKind.CONFIG_KIND_DROP_TABLE, "d", -1),
            ref(ConfigKind.CONFIG_KIND_UNSPECIFIED, "d", 0))) {
      assertThat(
              code(() -> blocking.getConfigs(GetConfigsRequest.newBuilder().addRefs(bad).build())))
          .as(bad.toString())
          .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
  }

  // --- ListActive -------------------------------------------------------------------------------

  @Test
  void listActiveStreamsEveryActiveDocumentInChunksAtOneRevision() {
    for (int i = 0; i < 20; i++) {
      put(
          upsert(
              ConfigKind.CONFIG_KIND_DROP_TABLE,
              String.format("dt-%02d", i),
              dropTable("gold", i + 1)));
    }
    put(
        upsert(
            ConfigKind.CONFIG_KIND_TREASURE_LOCATION,
            "loc-a",
            treasureLocation("zone-a", "dt-00")));
    put(
        upsert(
            ConfigKind.CONFIG_KIND_TREASURE_LOCATION,
            "loc-b",
            treasureLocation("zone-b", "dt-00")));
    put(
        ConfigWrite.newBuilder()
            .setOp(WriteOp.WRITE_OP_RETIRE)
            .setKind(ConfigKind.CONFIG_KIND_DROP_TABLE)
            .setId("dt-19")
            .build());

    List<ListActiveResponse> all = new ArrayList<>();
    blocking.listActive(ListActiveRequest.getDefaultInstance()).forEachRemaining(all::add);
    List<ListActiveResponse> zoneA = new ArrayList<>();
    blocking
        .listActive(
            ListActiveRequest.newBuilder()
                .addKinds(ConfigKind.CONFIG_KIND_TREASURE_LOCATION)
                .setZone("zone-a")
                .build())
        .forEachRemaining(zoneA::add);
    List<ListActiveResponse> past = new ArrayList<>();
    blocking
        .listActive(ListActiveRequest.newBuilder().setAtRevision(5).build())
        .forEachRemaining(past::add);

    assertThat(all).hasSize(3); // 21 entries in chunks of 7
    assertThat(all).extracting(ListActiveResponse::getRevision).containsOnly(23L);
    assertThat(all.stream().mapToInt(ListActiveResponse::getEntriesCount).sum()).isEqualTo(21);
    assertThat(zoneA).hasSize(1);
    assertThat(zoneA.get(0).getEntriesList()).extracting(e -> e.getId()).containsExactly("loc-a");
    assertThat(past.stream().mapToInt(ListActiveResponse::getEntriesCount).sum()).isEqualTo(5);
  }

  @Test
  void listActiveRefusesFutureAndNegativeRevisions() {
    Iterator<ListActiveResponse> future =
        blocking.listActive(ListActiveRequest.newBuilder().setAtRevision(99).build());
    Iterator<ListActiveResponse> negative =
        blocking.listActive(ListActiveRequest.newBuilder().setAtRevision(-1).build());
    Iterator<ListActiveResponse> unknownKind =
        blocking.listActive(ListActiveRequest.newBuilder().addKindsValue(7).build());

    assertThat(code(future::next)).isEqualTo(Status.Code.OUT_OF_RANGE);
    assertThat(code(negative::next)).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(code(unknownKind::next)).isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void anEmptyManifestStillSaysItsRevision() {
    List<ListActiveResponse> all = new ArrayList<>();
    blocking.listActive(ListActiveRequest.getDefaultInstance()).forEachRemaining(all::add);

    assertThat(all).hasSize(1);
    assertThat(all.get(0).getRevision()).isZero();
    assertThat(all.get(0).getEntriesCount()).isZero();
  }

  // --- WatchChanges -----------------------------------------------------------------------------

  @Test
  void watchSendsHistoryThenLiveChangesThenProgressWhenIdle() throws Exception {
    put(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 1)));
    BlockingQueue<WatchChangesResponse> events = new LinkedBlockingQueue<>();
    async.watchChanges(
        WatchChangesRequest.getDefaultInstance(), collect(events, new CountDownLatch(1)));

    WatchChangesResponse history = events.poll(5, TimeUnit.SECONDS);
    long committed = System.nanoTime();
    put(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-2", dropTable("gold", 1)));
    WatchChangesResponse live = nextChange(events);
    long deliveredMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - committed);
    WatchChangesResponse progress = events.poll(5, TimeUnit.SECONDS);

    assertThat(history.getRevision()).isEqualTo(1);
    assertThat(history.getType()).isEqualTo(WatchChangesResponse.ChangeType.CHANGE_TYPE_UPSERTED);
    assertThat(live.getId()).isEqualTo("dt-2");
    assertThat(live.getRevision()).isEqualTo(2);
    assertThat(deliveredMillis).as("live change delivered within a second").isLessThan(1000);
    assertThat(progress.getType()).isEqualTo(WatchChangesResponse.ChangeType.CHANGE_TYPE_PROGRESS);
    assertThat(progress.getRevision()).isEqualTo(2);
  }

  @Test
  void watchResumesAfterTheLastRevisionAndFiltersKinds() throws Exception {
    put(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 1)));
    put(upsert(ConfigKind.CONFIG_KIND_TREASURE_LOCATION, "loc-1", treasureLocation("z", "dt-1")));
    put(upsert(ConfigKind.CONFIG_KIND_DROP_TABLE, "dt-1", dropTable("gold", 2)));
    BlockingQueue<WatchChangesResponse> events = new LinkedBlockingQueue<>();

    async.watchChanges(
        WatchChangesRequest.newBuilder()
            .setAfterRevision(1)
            .addKinds(ConfigKind.CONFIG_KIND_DROP_TABLE)
            .build(),
        collect(events, new CountDownLatch(1)));

    WatchChangesResponse first = nextChange(events);
    assertThat(first.getRevision()).isEqualTo(3);
    assertThat(first.getVersion()).isEqualTo(2);
    assertThat(
            code(
                () ->
                    blocking
                        .watchChanges(WatchChangesRequest.newBuilder().setAfterRevision(99).build())
                        .next()))
        .isEqualTo(Status.Code.OUT_OF_RANGE);
    assertThat(
            code(
                () ->
                    blocking
                        .watchChanges(WatchChangesRequest.newBuilder().setAfterRevision(-5).build())
                        .next()))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void watchEndsWithDeadlineExceededAtTheClientsDeadlineAndStopsServerWork() throws Exception {
    BlockingQueue<WatchChangesResponse> events = new LinkedBlockingQueue<>();
    CountDownLatch ended = new CountDownLatch(1);
    List<Throwable> errors = new ArrayList<>();
    long start = System.nanoTime();

    async
        .withDeadlineAfter(700, TimeUnit.MILLISECONDS)
        .watchChanges(
            WatchChangesRequest.getDefaultInstance(),
            new StreamObserver<>() {
              public void onNext(WatchChangesResponse value) {
                events.add(value);
              }

              public void onError(Throwable t) {
                errors.add(t);
                ended.countDown();
              }

              public void onCompleted() {
                ended.countDown();
              }
            });

    assertThat(ended.await(5, TimeUnit.SECONDS)).isTrue();
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(Status.fromThrowable(errors.get(0)).getCode())
        .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(tookMillis).isBetween(600L, 2000L);
    awaitNoWatches();
  }

  @Test
  void aCancelledWatchStopsOnTheServer() throws Exception {
    io.grpc.Context.CancellableContext context = io.grpc.Context.current().withCancellation();
    context.run(
        () ->
            async.watchChanges(
                WatchChangesRequest.getDefaultInstance(),
                collect(new LinkedBlockingQueue<>(), new CountDownLatch(1))));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (changeStreams.openWatches() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(changeStreams.openWatches()).isEqualTo(1);

    context.cancel(null);

    awaitNoWatches();
  }

  @Test
  void aUnaryCallWithAnExpiredDeadlineFailsWithDeadlineExceeded() {
    assertThat(
            code(
                () ->
                    blocking
                        .withDeadlineAfter(1, TimeUnit.NANOSECONDS)
                        .getConfigs(GetConfigsRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
  }

  // --- health and reflection --------------------------------------------------------------------

  @Test
  void healthReportsServingWhileReady() throws Exception {
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    HealthCheckResponse.ServingStatus status;
    do {
      status =
          health
              .check(
                  HealthCheckRequest.newBuilder()
                      .setService("veltrix.config.v1.ConfigService")
                      .build())
              .getStatus();
      Thread.sleep(50);
    } while (status != HealthCheckResponse.ServingStatus.SERVING && System.nanoTime() < deadline);

    assertThat(status).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  // --- helpers ----------------------------------------------------------------------------------

  static ConfigRef ref(ConfigKind kind, String id, long version) {
    return ConfigRef.newBuilder().setKind(kind).setId(id).setVersion(version).build();
  }

  static BadRequest badRequest(StatusRuntimeException e) {
    return detail(e, BadRequest.class);
  }

  /** The status detail of that type (google.rpc), which must be there. */
  static <T extends com.google.protobuf.Message> T detail(StatusRuntimeException e, Class<T> type) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).as("rich status").isNotNull();
    try {
      for (com.google.protobuf.Any any : status.getDetailsList()) {
        if (any.is(type)) {
          return any.unpack(type);
        }
      }
    } catch (com.google.protobuf.InvalidProtocolBufferException x) {
      throw new AssertionError(x);
    }
    throw new AssertionError("no " + type.getSimpleName() + " in " + status);
  }

  static StreamObserver<WatchChangesResponse> collect(
      BlockingQueue<WatchChangesResponse> events, CountDownLatch ended) {
    return new StreamObserver<>() {
      public void onNext(WatchChangesResponse value) {
        events.add(value);
      }

      public void onError(Throwable t) {
        ended.countDown();
      }

      public void onCompleted() {
        ended.countDown();
      }
    };
  }

  static WatchChangesResponse nextChange(BlockingQueue<WatchChangesResponse> events)
      throws InterruptedException {
    while (true) {
      WatchChangesResponse e = events.poll(5, TimeUnit.SECONDS);
      assertThat(e).as("a change within 5 s").isNotNull();
      if (e.getType() != WatchChangesResponse.ChangeType.CHANGE_TYPE_PROGRESS) {
        return e;
      }
    }
  }

  void awaitNoWatches() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (changeStreams.openWatches() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(changeStreams.openWatches()).isZero();
  }
}
