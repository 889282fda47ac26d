package com.veltrix.config.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.grpc.v1.ConfigKind;
import com.veltrix.config.grpc.v1.ConfigRef;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Heavy calls against a service with a 512 MiB heap: 8 concurrent 1,000-item listings of ~60 KiB
 * documents (60 MB each) and 4 concurrent GetConfigs of the same 1,000 documents by version, with
 * the cache of versions already full (64MB of its weight). Together they would need about 700 MB;
 * the pod answers what fits and refuses the rest with 429 / RESOURCE_EXHAUSTED, and stays up.
 */
class HeavyCallsTest {

  static final int DOCUMENTS = 1000;

  @Test
  void heavyCallsBeyondTheMemoryBudgetAreRefusedAndThePodStaysUp() throws Exception {
    String url = TestDatabase.fresh("heavy");
    // the cache of versions on, as the service ships (the tests' configuration turns it off): the
    // gRPC calls below fetch by version, and the first one fills it before the burst
    Map<String, Object> shipped = Map.of("veltrix.cache.versions.max-size", "64MB");
    try (ServiceProcess service = new ServiceProcess("heavy", url, "0s", shipped, "512m")) {
      ProductionFaultsTest.awaitReadiness(service, "UP", 90_000);
      JdbcClient db = JdbcClient.create(dataSource("heavy"));
      db.sql(
              """
              INSERT INTO document_versions
                  (kind, id, version, revision, status, content_hash, size_bytes, zone, payload,
                   shard, updated_at, updated_by, request_id)
              SELECT 'DROP_TABLE', 'big-' || lpad(g::text, 4, '0'), 1, 1, 'ACTIVE', md5(g::text),
                     60000, NULL, '{"blob":"' || repeat('x', 59980) || '"}', g % 16, now(),
                     'seed', 'seed'
                FROM generate_series(1, :count) AS g
              """)
          .param("count", DOCUMENTS)
          .update();
      db.sql(
              """
              INSERT INTO documents (kind, id, version, revision, status, content_hash)
              SELECT kind, id, version, revision, status, content_hash FROM document_versions
              """)
          .update();
      db.sql("UPDATE revision_counter SET revision = 1 WHERE id = 1").update();

      Http http = service.rest;
      GetConfigsRequest.Builder refs = GetConfigsRequest.newBuilder();
      for (int i = 1; i <= DOCUMENTS; i++) {
        refs.addRefs(
            ConfigRef.newBuilder()
                .setKind(ConfigKind.CONFIG_KIND_DROP_TABLE)
                .setId(String.format("big-%04d", i))
                .setVersion(1));
      }
      // one fetch alone first: it is answered, and it fills the cache of versions before the burst
      assertThat(
              ConfigServiceGrpc.newBlockingStub(service.channel)
                  .withCallCredentials(Tokens.bearer(Tokens.admin()))
                  .withMaxInboundMessageSize(128 * 1024 * 1024)
                  .withDeadlineAfter(60, TimeUnit.SECONDS)
                  .getConfigs(refs.build())
                  .getConfigsCount())
          .isEqualTo(DOCUMENTS);
      List<Callable<String>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        calls.add(
            () -> {
              Http.Response r = http.get("/api/v1/drop-tables?limit=1000");
              if (r.status() == 200) {
                assertThat(r.json().get("items")).hasSize(DOCUMENTS);
              } else {
                assertThat(r.status()).as(r.body()).isEqualTo(429);
                assertThat(r.header("Retry-After")).isPresent();
              }
              return "rest " + r.status();
            });
      }
      for (int i = 0; i < 4; i++) {
        calls.add(
            () -> {
              try {
                int n =
                    ConfigServiceGrpc.newBlockingStub(service.channel)
                        .withCallCredentials(Tokens.bearer(Tokens.admin()))
                        .withMaxInboundMessageSize(128 * 1024 * 1024)
                        .withDeadlineAfter(60, TimeUnit.SECONDS)
                        .getConfigs(refs.build())
                        .getConfigsCount();
                assertThat(n).isEqualTo(DOCUMENTS);
                return "grpc OK";
              } catch (StatusRuntimeException e) {
                assertThat(e.getStatus().getCode().name()).isEqualTo("RESOURCE_EXHAUSTED");
                return "grpc RESOURCE_EXHAUSTED";
              }
            });
      }
      ExecutorService pool = Executors.newFixedThreadPool(calls.size());
      List<String> outcomes = new ArrayList<>();
      for (Future<String> f : pool.invokeAll(calls, 2, TimeUnit.MINUTES)) {
        outcomes.add(f.get());
      }
      pool.shutdown();
      System.out.println("HEAVY outcomes: " + outcomes);

      assertThat(service.alive()).as("the service survived").isTrue();
      assertThat(service.liveness()).isEqualTo("UP");
      assertThat(outcomes)
          .as("some calls were answered")
          .anyMatch(o -> o.endsWith("200") || o.endsWith("OK"));
      assertThat(outcomes)
          .as("some were refused")
          .anyMatch(o -> o.endsWith("429") || o.endsWith("EXHAUSTED"));
      assertThat(http.get("/api/v1/drop-tables?limit=1000").status())
          .as("a heavy call after the burst is answered")
          .isEqualTo(200);
    }
  }

  static PGSimpleDataSource dataSource(String database) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(TestDatabase.url(database));
    ds.setUser("postgres");
    return ds;
  }
}
