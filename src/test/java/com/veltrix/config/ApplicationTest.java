package com.veltrix.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.Http.Response;
import com.veltrix.config.support.TestDatabase;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The whole service on real ports: Actuator on its own port, the API on another. */
@AutoConfigureObservability
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "management.server.port=0",
      "veltrix.readiness.stable-for=0s",
      "veltrix.readiness.probe-interval=100ms"
    })
class ApplicationTest {

  @LocalServerPort int port;
  @LocalManagementPort int managementPort;

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
    FreePort.register(registry, "grpc.server.port");
  }

  @Test
  void probesAndMetricsAreOnTheManagementPortOnly() {
    Http management = new Http(managementPort);
    new Http(port).get("/api/v1/revision");

    Response liveness = management.get("/actuator/health/liveness");
    Response readiness = management.get("/actuator/health/readiness");
    Response prometheus = management.get("/actuator/prometheus");

    assertThat(liveness.status()).isEqualTo(200);
    assertThat(liveness.json().get("status").asText()).isEqualTo("UP");
    assertThat(liveness.body()).doesNotContain("\"db\"");
    assertThat(readiness.json().get("status").asText()).isEqualTo("UP");
    assertThat(prometheus.status()).isEqualTo(200);
    assertThat(prometheus.body())
        .contains("http_server_requests_seconds_bucket", "hikaricp_connections");
    assertThat(new Http(port).get("/actuator/health").status()).isEqualTo(404);
  }

  @Test
  void infoNamesTheVersionAndTheCommit() {
    JsonNode info = new Http(managementPort).get("/actuator/info").json();

    assertThat(info.at("/build/version").asText()).isNotBlank();
    assertThat(info.at("/build/artifact").asText()).isEqualTo("veltrix-config");
    assertThat(info.at("/git/commit/id").asText()).as(info.toString()).matches("[0-9a-f]{7,}");
  }

  @Test
  void everyResponseCarriesARequestId() {
    Http http = new Http(port);

    assertThat(http.get("/api/v1/revision").header("X-Request-Id")).isPresent();
    assertThat(http.get("/api/v1/revision", "X-Request-Id", "trace-42").header("X-Request-Id"))
        .contains("trace-42");
  }

  @Test
  void unknownPathsAndMethodsAreProblemDetailsWithoutStackTraces() {
    Http http = new Http(port);

    Response missing = http.get("/api/v1/drop-tables/x/nothing-here");
    Response wrongMethod = http.send("PATCH", "/api/v1/revision", null);

    assertThat(missing.status()).isEqualTo(404);
    assertThat(wrongMethod.status()).isEqualTo(405);
    assertThat(missing.body() + wrongMethod.body()).doesNotContain("Exception", "\tat ");
  }
}
