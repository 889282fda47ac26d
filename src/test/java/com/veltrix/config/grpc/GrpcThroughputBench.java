package com.veltrix.config.grpc;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.grpc.v1.ConfigKind;
import com.veltrix.config.grpc.v1.ConfigRef;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.ConfigWrite;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.grpc.v1.ListActiveRequest;
import com.veltrix.config.grpc.v1.ListActiveResponse;
import com.veltrix.config.grpc.v1.ManifestEntry;
import com.veltrix.config.grpc.v1.PutConfigsRequest;
import com.veltrix.config.grpc.v1.WriteOp;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Loopback throughput of the two-phase fetch: {@code ./mvnw -Pbench verify} (-Dbench.documents=N,
 * default 20000). Not part of the default build: it measures, it does not check behaviour.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"management.server.port=0"})
class GrpcThroughputBench {

  static final int PORT = FreePort.find();
  static final int DOCUMENTS = Integer.getInteger("bench.documents", 20_000);

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
    registry.add("grpc.server.port", () -> PORT);
  }

  @Autowired JdbcClient jdbc;

  @Test
  void measuresManifestAndFetchThroughput() {
    TestDatabase.reset(jdbc);
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("localhost", PORT).usePlaintext().build();
    var stub =
        ConfigServiceGrpc.newBlockingStub(channel)
            .withMaxInboundMessageSize(64 << 20)
            .withCallCredentials(Tokens.bearer(Tokens.admin()));

    long t0 = System.nanoTime();
    for (int from = 0; from < DOCUMENTS; from += 500) {
      PutConfigsRequest.Builder batch = PutConfigsRequest.newBuilder();
      for (int i = from; i < Math.min(DOCUMENTS, from + 500); i++) {
        batch.addWrites(
            ConfigWrite.newBuilder()
                .setOp(WriteOp.UPSERT)
                .setKind(ConfigKind.DROP_TABLE)
                .setId("dt-" + i)
                .setPayloadJson(dropTable("item-" + i, i % 100 + 1)));
      }
      stub.putConfigs(batch.build());
    }
    double ingestSeconds = (System.nanoTime() - t0) / 1e9;

    long t1 = System.nanoTime();
    List<ManifestEntry> entries = new ArrayList<>(DOCUMENTS);
    Iterator<ListActiveResponse> manifest = stub.listActive(ListActiveRequest.getDefaultInstance());
    manifest.forEachRemaining(r -> entries.addAll(r.getEntriesList()));
    double manifestSeconds = (System.nanoTime() - t1) / 1e9;

    long t2 = System.nanoTime();
    int fetched = 0;
    for (int from = 0; from < entries.size(); from += 1000) {
      GetConfigsRequest.Builder request = GetConfigsRequest.newBuilder();
      for (ManifestEntry e : entries.subList(from, Math.min(entries.size(), from + 1000))) {
        request.addRefs(
            ConfigRef.newBuilder()
                .setKind(e.getKind())
                .setId(e.getId())
                .setVersion(e.getVersion()));
      }
      fetched += stub.getConfigs(request.build()).getConfigsCount();
    }
    double fetchSeconds = (System.nanoTime() - t2) / 1e9;
    channel.shutdownNow();

    assertThat(entries).hasSize(DOCUMENTS);
    assertThat(fetched).isEqualTo(DOCUMENTS);
    System.out.printf(
        "%nBENCH documents=%d ingest(PutConfigs x500)=%.0f docs/s ListActive=%.0f entries/s"
            + " GetConfigs(x1000)=%.0f docs/s%n",
        DOCUMENTS,
        DOCUMENTS / ingestSeconds,
        DOCUMENTS / manifestSeconds,
        DOCUMENTS / fetchSeconds);
  }
}
