package com.veltrix.config.grpc;

import com.veltrix.config.catalog.CallCapacity;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.ConfigReader;
import com.veltrix.config.catalog.FetchResult;
import com.veltrix.config.catalog.IdempotencyKeys;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.ManifestCursor;
import com.veltrix.config.catalog.Violation;
import com.veltrix.config.catalog.schedule.SchedulePage;
import com.veltrix.config.catalog.schedule.Schedules;
import com.veltrix.config.catalog.schedule.TimedReads;
import com.veltrix.config.catalog.schedule.TimedReads.Timed;
import com.veltrix.config.catalog.write.ConfigWriter;
import com.veltrix.config.catalog.write.WriteCommand;
import com.veltrix.config.catalog.write.WriteContext;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.grpc.v1.GetConfigsResponse;
import com.veltrix.config.grpc.v1.ListActiveRequest;
import com.veltrix.config.grpc.v1.ListActiveResponse;
import com.veltrix.config.grpc.v1.ListSchedulesRequest;
import com.veltrix.config.grpc.v1.ListSchedulesResponse;
import com.veltrix.config.grpc.v1.PutConfigsRequest;
import com.veltrix.config.grpc.v1.PutConfigsResponse;
import com.veltrix.config.grpc.v1.WatchChangesRequest;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.security.Permissions;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import net.devh.boot.grpc.server.service.GrpcService;

/**
 * The gRPC adapter: parse, call one use case, map the result. Errors go to {@link
 * GrpcExceptionAdvice}; the streaming calls live in {@link ManifestStream} and {@link
 * ChangeStreams}.
 */
@GrpcService
class ConfigGrpcService extends ConfigServiceGrpc.ConfigServiceImplBase {

  private final ConfigReader reader;
  private final ConfigWriter writer;
  private final GrpcMapper mapper;
  private final ChangeStreams changes;
  private final GrpcProperties properties;
  private final CallCapacity capacity;
  private final AnswerDeadlines answerDeadlines;
  private final TimedReads timedReads;
  private final Schedules schedules;

  ConfigGrpcService(
      TimedReads timedReads,
      Schedules schedules,
      ConfigReader reader,
      ConfigWriter writer,
      GrpcMapper mapper,
      ChangeStreams changes,
      GrpcProperties properties,
      CallCapacity capacity,
      AnswerDeadlines answerDeadlines) {
    this.capacity = capacity;
    this.answerDeadlines = answerDeadlines;
    this.timedReads = timedReads;
    this.schedules = schedules;
    this.reader = reader;
    this.writer = writer;
    this.mapper = mapper;
    this.changes = changes;
    this.properties = properties;
  }

  @Override
  public void listActive(ListActiveRequest request, StreamObserver<ListActiveResponse> response) {
    Set<Kind> kinds = GrpcMapper.kinds(request.getKindsList());
    Optional<String> zone = Optional.of(request.getZone()).filter(z -> !z.isEmpty());
    OptionalLong atRevision = GrpcMapper.revision(request.getAtRevision(), "at_revision");
    Optional<Instant> atTime = GrpcMapper.time(request.hasAtTime(), request.getAtTime(), "at_time");
    ServerCallStreamObserver<ListActiveResponse> call =
        (ServerCallStreamObserver<ListActiveResponse>) response;
    if (atTime.isPresent()) {
      Timed<ManifestCursor> timed = timedReads.manifest(kinds, zone, atRevision, atTime.get());
      ManifestStream.start(
          timed.value(), call, properties.manifestChunk(), timed.assumedSchedules());
    } else {
      ManifestStream.start(
          reader.manifest(kinds, zone, atRevision), call, properties.manifestChunk(), List.of());
    }
  }

  @Override
  public void getConfigs(GetConfigsRequest request, StreamObserver<GetConfigsResponse> response) {
    // the answer is serialised by onNext and held by the transport until the consumer has taken
    // all of it: its reservation ends with the call, closed or cancelled (AnswerDeadlines)
    var permit = capacity.forDocuments(request.getRefsCount(), "GetConfigs");
    var answer = answerDeadlines.answer(permit);
    var call = (ServerCallStreamObserver<GetConfigsResponse>) response;
    call.setOnCloseHandler(answer);
    call.setOnCancelHandler(answer);
    try {
      List<VersionRef> refs = GrpcMapper.refs(request.getRefsList());
      Optional<Instant> atTime =
          GrpcMapper.time(request.hasAtTime(), request.getAtTime(), "at_time");
      if (atTime.isPresent()) {
        Timed<FetchResult> timed = timedReads.fetch(refs, atTime.get());
        response.onNext(
            GrpcMapper.fetched(timed.value()).toBuilder()
                .setRevision(timed.revision())
                .addAllAssumedScheduleIds(timed.assumedSchedules())
                .build());
      } else {
        response.onNext(GrpcMapper.fetched(reader.fetch(refs)));
      }
    } catch (RuntimeException | Error e) {
      answer.run(); // answered with an error status, a few bytes
      throw e;
    }
    answer.handedOver();
    response.onCompleted();
  }

  @Override
  public void watchChanges(
      WatchChangesRequest request, StreamObserver<WatchChangesResponse> response) {
    changes.open(
        GrpcMapper.afterRevision(request.getAfterRevision()),
        GrpcMapper.kinds(request.getKindsList()),
        (ServerCallStreamObserver<WatchChangesResponse>) response);
  }

  @Override
  public void listSchedules(
      ListSchedulesRequest request, StreamObserver<ListSchedulesResponse> response) {
    if (request.getPageSize() < 0 || request.getPageSize() > 1000) {
      throw GrpcMapper.invalid(
          "page_size", "must be 0 (100) or 1-1000, was " + request.getPageSize());
    }
    SchedulePage page =
        schedules.list(
            ScheduleMessages.status(request.getStatus()),
            GrpcMapper.time(request.hasFrom(), request.getFrom(), "from"),
            GrpcMapper.time(request.hasUntil(), request.getUntil(), "until"),
            request.getPageSize() == 0
                ? OptionalInt.empty()
                : OptionalInt.of(request.getPageSize()),
            Optional.of(request.getPageToken()).filter(t -> !t.isEmpty()));
    response.onNext(ScheduleMessages.page(page));
    response.onCompleted();
  }

  @Override
  public void putConfigs(PutConfigsRequest request, StreamObserver<PutConfigsResponse> response) {
    try (var permit = capacity.forBatch(request.getSerializedSize(), "PutConfigs")) {
      put(request, response);
    }
  }

  private void put(PutConfigsRequest request, StreamObserver<PutConfigsResponse> response) {
    Optional<String> key =
        IdempotencyKeys.check(
            request.getIdempotencyKey().isEmpty() ? null : request.getIdempotencyKey(),
            Violation.Location.parameter("idempotency_key"));
    List<WriteCommand> writes = mapper.writes(request.getWritesList());
    Permissions.requireAdminToRetire(writes);
    String actor =
        Permissions.caller()
            .orElseThrow(() -> new IllegalStateException("writes are authenticated"));
    response.onNext(
        GrpcMapper.written(
            writer.batch(writes, key, new WriteContext(actor, RequestIdInterceptor.current()))));
    response.onCompleted();
  }
}
