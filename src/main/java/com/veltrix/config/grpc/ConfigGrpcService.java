package com.veltrix.config.grpc;

import com.veltrix.config.catalog.CallCapacity;
import com.veltrix.config.catalog.ConfigReader;
import com.veltrix.config.catalog.IdempotencyKeys;
import com.veltrix.config.catalog.Violation;
import com.veltrix.config.catalog.write.ConfigWriter;
import com.veltrix.config.catalog.write.WriteCommand;
import com.veltrix.config.catalog.write.WriteContext;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.grpc.v1.GetConfigsResponse;
import com.veltrix.config.grpc.v1.ListActiveRequest;
import com.veltrix.config.grpc.v1.ListActiveResponse;
import com.veltrix.config.grpc.v1.PutConfigsRequest;
import com.veltrix.config.grpc.v1.PutConfigsResponse;
import com.veltrix.config.grpc.v1.WatchChangesRequest;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.security.Permissions;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;
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

  ConfigGrpcService(
      ConfigReader reader,
      ConfigWriter writer,
      GrpcMapper mapper,
      ChangeStreams changes,
      GrpcProperties properties,
      CallCapacity capacity) {
    this.capacity = capacity;
    this.reader = reader;
    this.writer = writer;
    this.mapper = mapper;
    this.changes = changes;
    this.properties = properties;
  }

  @Override
  public void listActive(ListActiveRequest request, StreamObserver<ListActiveResponse> response) {
    ManifestStream.start(
        reader.manifest(
            GrpcMapper.kinds(request.getKindsList()),
            Optional.of(request.getZone()).filter(z -> !z.isEmpty()),
            GrpcMapper.revision(request.getAtRevision(), "at_revision")),
        (ServerCallStreamObserver<ListActiveResponse>) response,
        properties.manifestChunk());
  }

  @Override
  public void getConfigs(GetConfigsRequest request, StreamObserver<GetConfigsResponse> response) {
    // the answer is serialised by onNext, inside the reservation
    try (var permit = capacity.forDocuments(request.getRefsCount(), "GetConfigs")) {
      response.onNext(GrpcMapper.fetched(reader.fetch(GrpcMapper.refs(request.getRefsList()))));
    }
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
