package com.veltrix.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.Http.Response;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.security.SecurityProperties;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.http.converter.xml.Jaxb2RootElementHttpMessageConverter;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.util.ReflectionTestUtils;
import org.springframework.web.filter.ServletRequestPathFilter;
import org.springframework.web.servlet.mvc.method.annotation.JsonViewRequestBodyAdvice;
import org.springframework.web.servlet.mvc.method.annotation.JsonViewResponseBodyAdvice;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;

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
  @Autowired RequestMappingHandlerAdapter adapter;
  @Autowired FilterRegistrationBean<ServletRequestPathFilter> pathOnce;

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
        .contains(
            "http_server_requests_seconds_bucket",
            "hikaricp_connections",
            "hikaricp_connections_creation_seconds_count", // the README's reconnects after a fault
            "veltrix_db_pool_waiting");
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

  @Test
  void restCallsSkipTheWorkOfFeaturesThisApiDoesNotUse() {
    // the path is parsed once, before the security chain's matchers need it
    assertThat(pathOnce.getOrder()).isLessThan(SecurityProperties.DEFAULT_FILTER_ORDER);
    assertThat(pathOnce.getFilter()).isInstanceOf(ServletRequestPathFilter.class);
    // JSON only: no converter that looks for XML annotations on every body's class
    assertThat(adapter.getMessageConverters())
        .isNotEmpty()
        .noneMatch(Jaxb2RootElementHttpMessageConverter.class::isInstance);
    Http http = new Http(port);
    assertThat(http.get("/api/v1/revision", "Accept", "application/xml").status()).isEqualTo(406);
    assertThat(
            http.send(
                    "PUT",
                    "/api/v1/drop-tables/xml",
                    "<dropTable/>".getBytes(StandardCharsets.UTF_8),
                    "Content-Type",
                    "application/xml")
                .status())
        .isEqualTo(415);
    // no @JsonView lookups on every body
    assertThat((List<?>) ReflectionTestUtils.getField(adapter, "requestResponseBodyAdvice"))
        .noneMatch(a -> a instanceof JsonViewRequestBodyAdvice)
        .noneMatch(a -> a instanceof JsonViewResponseBodyAdvice);
  }

  /**
   * A small JSON answer leaves in one piece with its length: the JSON generator's flush stays in
   * Tomcat's buffer instead of sending the body ahead of a chunked encoding's last chunk.
   */
  @Test
  void aSmallAnswerCarriesItsLengthInsteadOfChunks() throws Exception {
    for (String path : List.of("/api/v1/revision", "/api/v1/drop-tables/absent")) {
      String answer = raw("GET " + path);

      assertThat(answer)
          .as(path)
          .containsIgnoringCase("\r\nContent-Length: ")
          .doesNotContainIgnoringCase("Transfer-Encoding");
    }
  }

  /** Sends the request as bytes (the JDK's client refuses some of these targets). */
  private String raw(String requestLine, String... headers) throws Exception {
    return raw(port, requestLine, headers);
  }

  private static String raw(int port, String requestLine, String... headers) throws Exception {
    try (Socket socket = new Socket("localhost", port)) {
      socket.setSoTimeout(5_000);
      socket
          .getOutputStream()
          .write(
              (requestLine
                      + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                      + Tokens.admin()
                      + "\r\nConnection: close\r\n"
                      + Stream.of(headers).map(h -> h + "\r\n").collect(Collectors.joining())
                      + "\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void aPathThatCannotBeDecodedIsRefusedWithA400() throws Exception {
    // Tomcat refuses it before any filter: the path filter never meets a path it cannot decode
    String answer = raw("GET /api/v1/drop-tables/%zz");

    assertThat(answer)
        .startsWith("HTTP/1.1 400")
        .contains(PROBLEM, "refused before routing")
        .doesNotContain("Exception", "\tat ");
  }

  static final String PROBLEM = "application/problem+json";

  /**
   * Paths and requests refused before any controller sees them: by Tomcat (an encoded slash or NUL,
   * a character a URL must encode, headers too large) and by Spring Security's firewall (a {@code
   * ;} or {@code //}, from a caller whose token is valid). Each is a 400 problem detail saying what
   * was refused; before, Tomcat's were HTML pages and the firewall's a 401.
   */
  @Test
  void requestsRefusedBeforeRoutingAre400ProblemsSayingWhat() throws Exception {
    Http http = new Http(port);
    Map<String, String> refusedFor =
        Map.of(
            "/api/v1/drop-tables/a%2Fb", "encoded slash",
            "/api/v1/drop-tables/a%00b", "Invalid URI",
            "/api/v1/drop-tables/dt-1;jsessionid=1", "\";\"",
            "/api/v1//drop-tables/dt-1", "\"//\"",
            "/api/v1/drop-tables/a%25b", "\"%25\"");
    for (Map.Entry<String, String> each : refusedFor.entrySet()) {
      Response r = http.put(each.getKey(), "{}");

      assertThat(r.status()).as(each.getKey()).isEqualTo(400);
      assertThat(r.header("Content-Type"))
          .hasValueSatisfying(t -> assertThat(t).startsWith(PROBLEM));
      assertThat(r.json().get("detail").asText())
          .as(each.getKey())
          .contains("refused before routing", each.getValue(), "[A-Za-z0-9._-]");
    }
    assertThat(raw("GET /api/v1/drop-tables/a|b"))
        .startsWith("HTTP/1.1 400")
        .contains(PROBLEM, "refused before routing");
    assertThat(raw("GET /api/v1/revision", "X-Big: " + "a".repeat(20_000)))
        .startsWith("HTTP/1.1 400")
        .contains(PROBLEM, "a header is malformed, or its headers are too large");
  }

  /**
   * Actuator's port, a Tomcat of its own, refuses the same requests with the same problem detail
   * (what Tomcat itself refused there, the first three, was Tomcat's HTML page before).
   */
  @Test
  void theManagementPortRefusesWithProblemsToo() throws Exception {
    List<String[]> requests =
        List.of(
            new String[] {"GET /actuator/health/a%2Fb"},
            new String[] {"GET /actuator/health/a|b"},
            new String[] {"GET /actuator/health", "X-Big: " + "a".repeat(20_000)},
            new String[] {"GET /actuator/health;jsessionid=1"},
            new String[] {"GET /actuator//health"});
    for (String[] request : requests) {
      String answer =
          raw(managementPort, request[0], Arrays.copyOfRange(request, 1, request.length));

      assertThat(answer)
          .as(request[0])
          .startsWith("HTTP/1.1 400")
          .contains(PROBLEM, "refused before routing")
          .doesNotContainIgnoringCase("<html");
    }
    assertThat(new Http(managementPort).get("/actuator/health/liveness").status()).isEqualTo(200);
  }
}
