package com.veltrix.config.security;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.VeltrixConfigApplication;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.mock.env.MockEnvironment;

/**
 * What a production process refuses to start without, and the reason the page-token key is one of
 * those things: pages of one listing continue on any pod that shares the key.
 */
class StartupRequirementsTest {

  static final String KEY = "a-page-token-key-shared-by-every-pod-0123";
  static final String JWT = "spring.security.oauth2.resourceserver.jwt.";

  static MockEnvironment production() {
    return new MockEnvironment()
        .withProperty(JWT + "issuer-uri", "https://issuer.example.com/")
        .withProperty(JWT + "audiences", "veltrix-config")
        .withProperty("veltrix.security.page-token-key", KEY);
  }

  @Test
  void aCompleteProductionConfigurationStarts() {
    assertThat(StartupRequirements.missing(production())).isEmpty();
    MockEnvironment jwkSet =
        new MockEnvironment()
            .withProperty(JWT + "jwk-set-uri", "https://issuer.example.com/jwks")
            .withProperty(JWT + "audiences[0]", "veltrix-config")
            .withProperty("veltrix.security.page-token-key", KEY);
    assertThat(StartupRequirements.missing(jwkSet)).isEmpty();
  }

  @Test
  void productionNamesEverythingItLacks() {
    List<String> missing = StartupRequirements.missing(new MockEnvironment());

    assertThat(missing)
        .hasSize(3)
        .anySatisfy(m -> assertThat(m).contains("issuer-uri"))
        .anySatisfy(m -> assertThat(m).contains("audiences"))
        .anySatisfy(m -> assertThat(m).contains("page-token-key"));
  }

  @Test
  void productionRefusesTheDevelopmentKeyAndAShortPageTokenKey() {
    MockEnvironment environment =
        production()
            .withProperty("veltrix.security.jwt.hmac-secret", "x".repeat(40))
            .withProperty("veltrix.security.page-token-key", "short");

    assertThat(StartupRequirements.missing(environment))
        .hasSize(2)
        .anySatisfy(m -> assertThat(m).contains("hmac-secret"))
        .anySatisfy(m -> assertThat(m).contains("page-token-key"));
  }

  @Test
  void theLocalProfileNeedsNone() {
    MockEnvironment local = new MockEnvironment();
    local.setActiveProfiles("local");

    assertThat(StartupRequirements.missing(local)).isEmpty();
  }

  @Test
  void aProcessWithoutTheLocalProfileAndWithTheDevelopmentKeyDoesNotStart() {
    // the tests' configuration sets profile local (and, only then, an HS256 key)
    assertThatThrownBy(
            () ->
                start(
                    "--spring.profiles.active=production",
                    "--veltrix.security.jwt.hmac-secret=" + "k".repeat(40)))
        .hasMessageContaining("will not start in production")
        .hasMessageContaining("veltrix.security.jwt.hmac-secret unset")
        .hasMessageContaining("issuer-uri");
  }

  /**
   * A 503 with Retry-After is retryable by contract, and a pod started a moment ago runs cold code
   * on a busy CI machine. Page tokens are what this test is about, so it retries as a client would,
   * at most three times. (The 503s of two clean-clone CI runs, first put down to cold code, were
   * another test's 400,000 leftover drop tables with stale statistics: see the reset below.)
   */
  private static Http.Response getAsAClientWould(Http pod, String query) {
    Http.Response response = pod.get(query);
    for (int attempt = 1; attempt <= 3 && response.status() == 503; attempt++) {
      assertThat(response.header("Retry-After")).as("a retryable 503").isPresent();
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      response = pod.get(query);
    }
    return response;
  }

  @Test
  void pagesOfOneListingContinueOnAnyPodWithTheSameKey() {
    List<ConfigurableApplicationContext> pods = new ArrayList<>();
    try {
      pods.add(start("--veltrix.security.page-token-key=" + KEY));
      pods.add(start("--veltrix.security.page-token-key=" + KEY));
      pods.add(start("--veltrix.security.page-token-key=another-key-for-another-deployment-000"));
      // the JVM's one database may hold what an earlier test left; this listing walks a whole kind
      TestDatabase.reset(JdbcClient.create(pods.get(0).getBean(DataSource.class)));
      Http a = http(pods.get(0));
      Http b = http(pods.get(1));
      Http stranger = http(pods.get(2));
      String prefix = "dt-across-" + System.nanoTime() + "-";
      for (int i = 0; i < 5; i++) {
        assertThat(a.put("/api/v1/drop-tables/" + prefix + i, dropTable("gold", 1)).status())
            .isEqualTo(201);
      }

      List<String> ids = new ArrayList<>();
      String token = null;
      Http[] alternating = {a, b};
      for (int page = 0; page == 0 || token != null; page++) {
        String query = "/api/v1/drop-tables?limit=2" + (token == null ? "" : "&pageToken=" + token);
        Http.Response response = getAsAClientWould(alternating[page % 2], query);
        assertThat(response.status()).as("page %d", page).isEqualTo(200);
        JsonNode body = response.json();
        body.get("items").forEach(item -> ids.add(item.get("id").asText()));
        token = body.get("nextPageToken").isNull() ? null : body.get("nextPageToken").asText();
        if (page == 0) {
          assertThat(stranger.get("/api/v1/drop-tables?limit=2&pageToken=" + token).status())
              .as("a pod with another key refuses the token")
              .isEqualTo(400);
        }
      }
      assertThat(ids.stream().filter(id -> id.startsWith(prefix)))
          .containsExactly(prefix + 0, prefix + 1, prefix + 2, prefix + 3, prefix + 4);
    } finally {
      pods.forEach(ConfigurableApplicationContext::close);
    }
  }

  static ConfigurableApplicationContext start(String... args) {
    List<String> all =
        new ArrayList<>(
            List.of(
                "--server.port=0",
                "--management.server.port=0",
                "--grpc.server.port=" + FreePort.find(),
                "--spring.datasource.url=" + TestDatabase.jdbcUrl(),
                "--spring.datasource.username=postgres",
                "--spring.datasource.password="));
    all.addAll(List.of(args));
    return new SpringApplicationBuilder(VeltrixConfigApplication.class)
        .run(all.toArray(String[]::new));
  }

  static Http http(ConfigurableApplicationContext pod) {
    return new Http(
        Integer.parseInt(pod.getEnvironment().getRequiredProperty("local.server.port")));
  }
}
