package com.veltrix.config.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.grpc.v1.ConfigKind;
import com.veltrix.config.grpc.v1.ConfigRef;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.ConfigWrite;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.grpc.v1.GetConfigsResponse;
import com.veltrix.config.grpc.v1.ListActiveRequest;
import com.veltrix.config.grpc.v1.ListActiveResponse;
import com.veltrix.config.grpc.v1.ManifestEntry;
import com.veltrix.config.grpc.v1.PutConfigsRequest;
import com.veltrix.config.grpc.v1.PutConfigsResponse;
import com.veltrix.config.grpc.v1.WatchChangesRequest;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.grpc.v1.WriteOp;
import com.veltrix.config.support.Tokens;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * veltrix-config through its public APIs: writes, gRPC reads, the manifest and the watch over one
 * gRPC channel; REST reads over one {@link HttpClient}. Authenticated like any client (a bearer
 * token on every call), so token checks are part of every figure.
 */
final class VeltrixStore implements Store {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ManagedChannel channel;
  private final ConfigServiceGrpc.ConfigServiceBlockingStub blocking;
  private final ConfigServiceGrpc.ConfigServiceStub async;
  // HTTP/1.1, what the service speaks: the JDK client's default (HTTP/2) offers an h2c upgrade
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final String restBase;
  private final String authorization;
  private final boolean restReads;

  VeltrixStore(int grpcPort, int restPort) {
    this(
        ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort)
            .usePlaintext()
            .maxInboundMessageSize(64 << 20)
            .build(),
        "http://127.0.0.1:" + restPort,
        false);
  }

  /** An ingest batch's deadline: a job's, not an interactive call's 250 ms. */
  private static final long BATCH_DEADLINE_SECONDS = 30;

  private VeltrixStore(ManagedChannel channel, String restBase, boolean restReads) {
    String token = Tokens.admin();
    this.channel = channel;
    this.blocking =
        ConfigServiceGrpc.newBlockingStub(channel)
            .withCallCredentials(Tokens.bearer(token))
            .withMaxInboundMessageSize(64 << 20);
    this.async = ConfigServiceGrpc.newStub(channel).withCallCredentials(Tokens.bearer(token));
    this.restBase = restBase;
    this.authorization = "Bearer " + token;
    this.restReads = restReads;
  }

  /** {@code GET /api/v1/drop-tables/{id}} with the bearer token, on the REST side only. */
  @Override
  public Optional<HttpRead> httpRead() {
    if (!restReads) {
      return Optional.empty();
    }
    return Optional.of(
        new HttpRead(
            "GET",
            restBase,
            Map.of("Authorization", authorization),
            id -> "/api/v1/drop-tables/" + id,
            id -> null,
            body -> body.contains("\"payload\"")));
  }

  /** The same service, read over REST ({@code GET /api/v1/drop-tables/{id}}) instead of gRPC. */
  VeltrixStore overRest() {
    return new VeltrixStore(channel, restBase, true);
  }

  @Override
  public String name() {
    return restReads ? "veltrix REST" : "veltrix gRPC";
  }

  @Override
  public void putBatch(List<String> ids, List<byte[]> payloads) {
    PutConfigsRequest.Builder request = PutConfigsRequest.newBuilder();
    for (int i = 0; i < ids.size(); i++) {
      request.addWrites(write(ids.get(i), payloads.get(i)));
    }
    // An ingest job gives a batch a deadline of its own, as the README asks: without one a batch
    // gets the 250 ms request budget, and with 4 batches of 500 in flight on a cold or slow
    // machine the last one queued behind the others' commits was answered UNAVAILABLE (CI,
    // 2026-12-01: p50 489 ms a batch).
    PutConfigsResponse response =
        blocking
            .withDeadlineAfter(BATCH_DEADLINE_SECONDS, TimeUnit.SECONDS)
            .putConfigs(request.build());
    if (response.getResultsCount() != ids.size()) {
      throw new IllegalStateException("batch of " + ids.size() + " answered " + response);
    }
  }

  @Override
  public void put(String id, byte[] payload) {
    blocking.putConfigs(PutConfigsRequest.newBuilder().addWrites(write(id, payload)).build());
  }

  @Override
  public CompletableFuture<?> putAsync(String id, byte[] payload) {
    CompletableFuture<PutConfigsResponse> done = new CompletableFuture<>();
    async.putConfigs(
        PutConfigsRequest.newBuilder().addWrites(write(id, payload)).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(PutConfigsResponse value) {
            done.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    return done;
  }

  @Override
  public void get(String id) {
    if (restReads) {
      HttpResponse<byte[]> response = send(restBase + "/api/v1/drop-tables/" + id);
      if (response.statusCode() != 200 || response.body().length == 0) {
        throw new IllegalStateException("GET " + id + ": " + response.statusCode());
      }
      return;
    }
    GetConfigsResponse response =
        blocking.getConfigs(GetConfigsRequest.newBuilder().addRefs(ref(id, 0)).build());
    if (response.getConfigsCount() != 1) {
      throw new IllegalStateException("GetConfigs " + id + ": " + response);
    }
  }

  @Override
  public long coldLoad(Histogram pageLatency) {
    long loaded = 0;
    long t0 = System.nanoTime();
    // A cold load is a job with a timeout of its own, not an interactive call: with a deadline,
    // each page's database work may take what is left of it instead of the 250 ms request budget
    // (one page stalled past 250 ms on I/O right after the million-document ingest).
    var job = blocking.withDeadlineAfter(10, TimeUnit.MINUTES);
    Iterator<ListActiveResponse> manifest = job.listActive(ListActiveRequest.getDefaultInstance());
    while (manifest.hasNext()) {
      ListActiveResponse chunk = manifest.next();
      GetConfigsRequest.Builder fetch = GetConfigsRequest.newBuilder();
      for (ManifestEntry entry : chunk.getEntriesList()) {
        fetch.addRefs(ref(entry.getId(), entry.getVersion()));
      }
      if (fetch.getRefsCount() > 0) {
        GetConfigsResponse payloads = job.getConfigs(fetch.build());
        if (payloads.getConfigsCount() != fetch.getRefsCount()) {
          throw new IllegalStateException("missing at a pinned version: " + payloads.getMissing(0));
        }
        loaded += payloads.getConfigsCount();
      }
      long now = System.nanoTime();
      pageLatency.recordValue((now - t0) / 1_000);
      t0 = now;
    }
    return loaded;
  }

  /**
   * Watches from the current revision as a consumer does (README, the consumer pattern): when the
   * stream ends UNAVAILABLE, it resumes after the last revision it had completely (waiting for the
   * channel to be ready, so that a service that is down is not asked in a tight loop; any other
   * error ends the watch, and its events count as never delivered). The service ends every stream
   * at its connection's maximum age (5 min, then 30 s of grace) so that clients rebalance; a
   * watcher that stopped there lost the rest of its run (one run of 2026-12-05: 920 of 4,000 events
   * "never delivered").
   */
  @Override
  public AutoCloseable watch(String idPrefix, Consumer<String> onChangedId) {
    long now = JSON.valueToTree(body(send(restBase + "/api/v1/revision"))).get("revision").asLong();
    Context.CancellableContext context = Context.current().withCancellation();
    context.run(() -> watchAfter(now, idPrefix, onChangedId, context));
    return () -> context.cancel(null);
  }

  private void watchAfter(
      long after, String idPrefix, Consumer<String> onChangedId, Context.CancellableContext ours) {
    async
        .withWaitForReady()
        .watchChanges(
            WatchChangesRequest.newBuilder().setAfterRevision(after).build(),
            new StreamObserver<>() {
              long complete = after; // every event through this revision has arrived
              long open = -1; // the revision of the last event, perhaps not all of it yet

              @Override
              public void onNext(WatchChangesResponse event) {
                if (event.getType() == WatchChangesResponse.ChangeType.CHANGE_TYPE_PROGRESS) {
                  complete = event.getRevision();
                  open = -1;
                  return;
                }
                if (open != -1 && event.getRevision() != open) {
                  complete = open;
                }
                open = event.getRevision();
                if (event.getType() == WatchChangesResponse.ChangeType.CHANGE_TYPE_UPSERTED
                    && event.getId().startsWith(idPrefix)) {
                  onChangedId.accept(event.getId());
                }
              }

              @Override
              public void onError(Throwable t) {
                if (!ours.isCancelled()
                    && Status.fromThrowable(t).getCode() == Status.Code.UNAVAILABLE) {
                  System.out.println(
                      "bench | veltrix watch resumed after revision " + complete + ": " + t);
                  ours.run(() -> watchAfter(complete, idPrefix, onChangedId, ours));
                }
              }

              @Override
              public void onCompleted() {}
            });
  }

  @Override
  public void close() {
    if (!restReads) {
      channel.shutdownNow();
    }
  }

  private static ConfigWrite write(String id, byte[] payload) {
    return ConfigWrite.newBuilder()
        .setOp(WriteOp.WRITE_OP_UPSERT)
        .setKind(ConfigKind.CONFIG_KIND_DROP_TABLE)
        .setId(id)
        .setPayloadJson(new String(payload, StandardCharsets.UTF_8))
        .build();
  }

  private static ConfigRef ref(String id, long version) {
    return ConfigRef.newBuilder()
        .setKind(ConfigKind.CONFIG_KIND_DROP_TABLE)
        .setId(id)
        .setVersion(version)
        .build();
  }

  private HttpResponse<byte[]> send(String uri) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(uri)).header("Authorization", authorization).build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Object body(HttpResponse<byte[]> response) {
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
