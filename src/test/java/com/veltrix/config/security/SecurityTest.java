package com.veltrix.config.security;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.grpc.v1.ConfigKind;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.grpc.v1.ConfigWrite;
import com.veltrix.config.grpc.v1.GetConfigsRequest;
import com.veltrix.config.grpc.v1.PutConfigsRequest;
import com.veltrix.config.grpc.v1.WriteOp;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.web.FilterChainProxy;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** Authentication and scopes over REST, Actuator and gRPC, with real tokens and real ports. */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"management.server.port=0"})
class SecurityTest {

  static final int GRPC_PORT = FreePort.find();
  static final String DT = "/api/v1/drop-tables/";

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
    registry.add("grpc.server.port", () -> GRPC_PORT);
  }

  @LocalServerPort int port;
  @LocalManagementPort int managementPort;
  @Autowired JdbcClient jdbc;
  @Autowired ApplicationContext context;
  Http anonymous;
  ManagedChannel channel;

  static String token(String scope) {
    return Tokens.mint("alice", scope, Duration.ofMinutes(5), Tokens.SECRET);
  }

  static String[] bearer(String token) {
    return new String[] {"Authorization", "Bearer " + token};
  }

  @BeforeEach
  void setUp() {
    TestDatabase.reset(jdbc);
    anonymous = Http.anonymous(port);
    channel = ManagedChannelBuilder.forAddress("localhost", GRPC_PORT).usePlaintext().build();
  }

  @AfterEach
  void tearDown() {
    channel.shutdownNow();
  }

  /**
   * The filter the servlet runs is the security chain itself, with no MVC handler lookup in front
   * of it ({@link WithoutHandlerLookupCache}); both chains are in it.
   */
  @Test
  void theChainRunsWithoutAHandlerLookupInFrontOfIt() {
    FilterChainProxy chain =
        context.getBean(WithoutHandlerLookupCache.CHAIN_BEAN, FilterChainProxy.class);
    assertThat(chain).isExactlyInstanceOf(FilterChainProxy.class);
    assertThat(chain.getFilterChains()).hasSize(2);
  }

  long versions() {
    return jdbc.sql("SELECT count(*) FROM document_versions").query(Long.class).single();
  }

  // --- REST: 401 --------------------------------------------------------------------------------

  @Test
  void restRefusesMissingExpiredForeignUnsignedAndGarbageTokensWith401() {
    String expired =
        Tokens.mint("alice", Tokens.ALL_SCOPES, Duration.ofMinutes(-10), Tokens.SECRET);
    String foreign =
        Tokens.mint(
            "alice",
            Tokens.ALL_SCOPES,
            Duration.ofMinutes(5),
            "another-secret-that-is-32-bytes-long!!");
    String unsigned = unsignedToken();

    for (String[] auth :
        new String[][] {
          {},
          bearer(expired),
          bearer(foreign),
          bearer(unsigned),
          bearer("garbage"),
          {"Authorization", "Basic YTpi"}
        }) {
      Http.Response r = anonymous.get("/api/v1/revision", auth);
      assertThat(r.status()).as(String.join(" ", auth)).isEqualTo(401);
      assertThat(r.header("WWW-Authenticate"))
          .hasValueSatisfying(h -> assertThat(h).startsWith("Bearer"));
      assertThat(r.header("Content-Type"))
          .hasValueSatisfying(t -> assertThat(t).contains("problem+json"));
      String detail = r.json().get("detail").asText();
      if (auth.length == 0 || auth[1].startsWith("Basic")) { // no bearer token at all
        assertThat(detail)
            .isEqualTo("a bearer token is required: send Authorization: Bearer <token>");
      } else {
        assertThat(detail)
            .as(String.join(" ", auth))
            .startsWith("a valid bearer token is required: ");
      }
    }
    Http.Response write = anonymous.put(DT + "dt-1", dropTable("gold", 1));
    assertThat(write.status()).isEqualTo(401);
    assertThat(versions()).isZero();
  }

  @Test
  void tokensWithoutExpiryOrSubjectAreRefusedWith401AndWriteNothing() {
    String noExpiry =
        Tokens.sign(
            Tokens.claims("alice", Tokens.ALL_SCOPES, Duration.ofMinutes(5))
                .expirationTime(null)
                .build(),
            Tokens.SECRET);
    String noSubject =
        Tokens.sign(
            Tokens.claims("alice", Tokens.ALL_SCOPES, Duration.ofMinutes(5)).subject(null).build(),
            Tokens.SECRET);

    for (String token : new String[] {noExpiry, noSubject}) {
      assertThat(anonymous.get("/api/v1/revision", bearer(token)).status()).isEqualTo(401);
      assertThat(anonymous.put(DT + "dt-1", dropTable("gold", 1), bearer(token)).status())
          .isEqualTo(401);
      assertThat(
              code(
                  () -> stub(token).putConfigs(put(WriteOp.WRITE_OP_UPSERT, dropTable("gold", 1)))))
          .isEqualTo(Status.Code.UNAUTHENTICATED);
    }
    assertThat(versions()).isZero();
  }

  /** {@code alg: none}: a token anyone can forge. */
  static String unsignedToken() {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String header =
        b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
    long exp = System.currentTimeMillis() / 1000 + 300;
    String claims =
        b64.encodeToString(
            ("{\"sub\":\"mallory\",\"scope\":\"" + Tokens.ALL_SCOPES + "\",\"exp\":" + exp + "}")
                .getBytes(StandardCharsets.UTF_8));
    return header + "." + claims + ".";
  }

  // --- REST: 403 by scope -----------------------------------------------------------------------

  @Test
  void restScopesGateReadsWritesAndAdministration() {
    String read = token("configs:read");
    String write = token("configs:read configs:write");
    String admin = token(Tokens.ALL_SCOPES);

    assertThat(anonymous.get("/api/v1/revision", bearer(read)).status()).isEqualTo(200);
    assertThat(anonymous.put(DT + "dt-1", dropTable("gold", 1), bearer(read)).status())
        .isEqualTo(403);
    assertThat(anonymous.put(DT + "dt-1", dropTable("gold", 1), bearer(write)).status())
        .isEqualTo(201);
    assertThat(anonymous.put(DT + "dt-1", dropTable("gold", 2), bearer(write)).status())
        .isEqualTo(200);
    assertThat(anonymous.post(DT + "dt-1/rollback", "{\"toVersion\":1}", bearer(write)).status())
        .isEqualTo(403);
    assertThat(anonymous.delete(DT + "dt-1", bearer(write)).status()).isEqualTo(403);
    String retireBatch =
        "{\"writes\":[{\"op\":\"retire\",\"kind\":\"DROP_TABLE\",\"id\":\"dt-1\"}]}";
    assertThat(anonymous.post("/api/v1/batches", retireBatch, bearer(write)).status())
        .isEqualTo(403);
    assertThat(versions()).isEqualTo(2);
    assertThat(anonymous.post(DT + "dt-1/rollback", "{\"toVersion\":1}", bearer(admin)).status())
        .isEqualTo(200);
    assertThat(anonymous.post("/api/v1/batches", retireBatch, bearer(admin)).status())
        .isEqualTo(200);
    assertThat(anonymous.get("/v3/api-docs").status()).as("the contract is public").isEqualTo(200);
  }

  @Test
  void everyVersionRecordsTheTokenSubjectAndTheRequestId() {
    anonymous.put(
        DT + "dt-1",
        dropTable("gold", 1),
        "Authorization",
        "Bearer " + token(Tokens.ALL_SCOPES),
        "X-Request-Id",
        "change-4711");

    var history = anonymous.get(DT + "dt-1/versions", bearer(token("configs:read"))).json();

    assertThat(history.get("items").get(0).get("updatedBy").asText()).isEqualTo("alice");
    assertThat(history.get("items").get(0).get("requestId").asText()).isEqualTo("change-4711");
    assertThat(jdbc.sql("SELECT updated_by FROM document_versions").query(String.class).single())
        .isEqualTo("alice");
  }

  @Test
  void probesAreOpenAndEveryOtherActuatorEndpointNeedsAdmin() {
    Http management = Http.anonymous(managementPort);

    assertThat(management.get("/actuator/health/liveness").status()).isEqualTo(200);
    assertThat(management.get("/actuator/health/readiness").status()).isIn(200, 503);
    assertThat(management.get("/actuator/metrics").status()).isEqualTo(401);
    assertThat(management.get("/actuator/health").status()).isEqualTo(401);
    assertThat(
            management
                .get("/actuator/metrics", bearer(token("configs:read configs:write")))
                .status())
        .isEqualTo(403);
    assertThat(management.get("/actuator/health", bearer(token(Tokens.ALL_SCOPES))).status())
        .isIn(200, 503);
  }

  // --- gRPC --------------------------------------------------------------------------------------

  ConfigServiceGrpc.ConfigServiceBlockingStub stub(String token) {
    var stub = ConfigServiceGrpc.newBlockingStub(channel);
    return token == null ? stub : stub.withCallCredentials(Tokens.bearer(token));
  }

  static Status.Code code(Runnable call) {
    return status(call).getCode();
  }

  static Status status(Runnable call) {
    try {
      call.run();
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  static PutConfigsRequest put(WriteOp op, String payload) {
    ConfigWrite.Builder write =
        ConfigWrite.newBuilder().setOp(op).setKind(ConfigKind.CONFIG_KIND_DROP_TABLE).setId("dt-1");
    if (payload != null) {
      write.setPayloadJson(payload);
    }
    return PutConfigsRequest.newBuilder().addWrites(write).build();
  }

  @Test
  void grpcRefusesMissingAndInvalidTokensWithUnauthenticated() {
    GetConfigsRequest request = GetConfigsRequest.getDefaultInstance();

    assertThat(code(() -> stub(null).getConfigs(request))).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(code(() -> stub("garbage").getConfigs(request)))
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(code(() -> stub(unsignedToken()).getConfigs(request)))
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(
            code(
                () ->
                    stub(Tokens.mint(
                            "a", Tokens.ALL_SCOPES, Duration.ofMinutes(-10), Tokens.SECRET))
                        .getConfigs(request)))
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(status(() -> stub(null).getConfigs(request)).getDescription())
        .isEqualTo("a bearer token is required: send Authorization: Bearer <token>");
    assertThat(status(() -> stub("garbage").getConfigs(request)).getDescription())
        .startsWith("a valid bearer token is required: ")
        .contains("Malformed");
    String expired = Tokens.mint("a", Tokens.ALL_SCOPES, Duration.ofMinutes(-10), Tokens.SECRET);
    assertThat(status(() -> stub(expired).getConfigs(request)).getDescription())
        .startsWith("a valid bearer token is required: ")
        .contains("expiresAt must be after issuedAt"); // how Tokens.mint makes an expired one
    assertThat(
            HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.newBuilder().setService("").build())
                .getStatus())
        .as("health needs no token")
        .isNotNull();
  }

  @Test
  void grpcScopesGateReadsWritesAndRetires() {
    String payload = dropTable("gold", 1);

    assertThat(
            code(
                () ->
                    stub(token("configs:read")).getConfigs(GetConfigsRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.OK);
    assertThat(
            code(
                () ->
                    stub(token("configs:read")).putConfigs(put(WriteOp.WRITE_OP_UPSERT, payload))))
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(
            status(
                    () ->
                        stub(token("configs:read"))
                            .putConfigs(put(WriteOp.WRITE_OP_UPSERT, payload)))
                .getDescription())
        .isEqualTo("the token lacks the scope this call needs");
    assertThat(
            code(
                () ->
                    stub(token("configs:write")).putConfigs(put(WriteOp.WRITE_OP_UPSERT, payload))))
        .isEqualTo(Status.Code.OK);
    assertThat(
            code(() -> stub(token("configs:write")).putConfigs(put(WriteOp.WRITE_OP_RETIRE, null))))
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(versions()).isEqualTo(1);
    assertThat(
            code(
                () ->
                    stub(token(Tokens.ALL_SCOPES)).putConfigs(put(WriteOp.WRITE_OP_RETIRE, null))))
        .isEqualTo(Status.Code.OK);
    assertThat(
            jdbc.sql("SELECT DISTINCT updated_by FROM document_versions")
                .query(String.class)
                .list())
        .containsExactly("alice");
  }
}
