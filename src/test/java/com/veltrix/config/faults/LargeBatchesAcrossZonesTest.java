package com.veltrix.config.faults;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import java.util.Map;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * A batch at the limits over a network whose round trip is 50 ms (25 ms each way, the fault proxy's
 * latency): a database across zones, a slow one. Such a batch takes the database a few round trips
 * whatever its size, plus the time to send and store it; that is more than the 250 ms request
 * budget, so without a budget of its own it was answered 503 every time, and its client sent it
 * again, whole. It gets the largest batch's budget ({@code
 * veltrix.resilience.largest-batch-budget}, 5 s) in proportion to its size; a write of one document
 * keeps the request budget. The budgets are the feature; the test asserts answers, not times.
 */
class LargeBatchesAcrossZonesTest {

  static final int WRITES = 1000;

  /** This execution's ids: the suite's database outlives one execution of a test. */
  final String prefix = "zones-" + Long.toString(System.nanoTime(), 36) + "-";

  @Test
  void aBatchAtTheLimitsIsAnsweredWhereARoundTripIsFiftyMilliseconds() throws Exception {
    try (FaultProxy network = new FaultProxy(TestDatabase.postgres().getPort());
        ServiceUnderTest service =
            new ServiceUnderTest(
                "zones",
                "jdbc:postgresql://localhost:" + network.port() + "/postgres",
                "0s",
                Map.of("veltrix.readiness.probe-timeout", "1s"))) {
      ProductionFaultsTest.awaitReadiness(service, "UP", 60_000);
      Http http = service.rest;
      network.latency(25);

      long started = System.nanoTime();
      Http.Response created = http.post("/api/v1/batches", batch(this::upsert));
      long createdMillis = (System.nanoTime() - started) / 1_000_000;
      assertThat(created.status()).as(created.body()).isEqualTo(200);
      JsonNode results = created.json().get("results");
      assertThat(results).hasSize(WRITES);
      long revision = created.json().get("revision").asLong();
      for (JsonNode result : results) {
        assertThat(result.get("version").asLong()).isEqualTo(1);
        assertThat(result.get("status").asText()).isEqualTo("ACTIVE");
        assertThat(result.get("revision").asLong()).isEqualTo(revision);
      }

      started = System.nanoTime();
      Http.Response retired = http.post("/api/v1/batches", batch(this::retire));
      long retiredMillis = (System.nanoTime() - started) / 1_000_000;
      assertThat(retired.status()).as(retired.body()).isEqualTo(200);
      assertThat(retired.json().get("revision").asLong()).isGreaterThan(revision);

      // a single write keeps the request budget: where one round trip alone outlasts it, it fails
      // fast (a slow database, not a large request)
      network.latency(150);
      started = System.nanoTime();
      Http.Response one = http.put("/api/v1/drop-tables/" + prefix + "one", dropTable("one", 1));
      long oneMillis = (System.nanoTime() - started) / 1_000_000;
      assertThat(one.status()).as(one.body()).isEqualTo(503);
      assertThat(one.header("Retry-After")).isPresent();
      System.out.printf(
          "LARGE-BATCHES 50 ms round trips: 1,000 upserts in %d ms, 1,000 retires in %d ms;"
              + " 300 ms round trips: one write %d in %d ms%n",
          createdMillis, retiredMillis, one.status(), oneMillis);
      network.latency(0);
      // its commit may have happened with the answer lost: what the suite lists stays the same
      http.delete("/api/v1/drop-tables/" + prefix + "one");
    }
  }

  String batch(IntFunction<String> write) {
    StringBuilder body = new StringBuilder("{\"writes\": [");
    for (int i = 0; i < WRITES; i++) {
      body.append(i == 0 ? "" : ",").append(write.apply(i));
    }
    return body.append("]}").toString();
  }

  String upsert(int i) {
    return "{\"op\": \"upsert\", \"kind\": \"DROP_TABLE\", \"id\": \"%s%d\", \"payload\": %s}"
        .formatted(prefix, i, dropTable("item-" + i, 1));
  }

  String retire(int i) {
    return "{\"op\": \"retire\", \"kind\": \"DROP_TABLE\", \"id\": \"%s%d\"}".formatted(prefix, i);
  }
}
