package com.veltrix.config.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import com.veltrix.config.support.Tokens;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

/**
 * Walks every route the service maps, with every HTTP method, and every gRPC method, with tokens
 * that lack each scope in turn: a call that needs a scope the token lacks is refused (403 /
 * PERMISSION_DENIED) whatever the method, and one that carries it gets past authorisation. The
 * routes come from the running application, so a new endpoint is walked without editing this test;
 * what each needs is written here independently of {@link WebSecurity}.
 */
@AutoConfigureObservability
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"management.server.port=0"})
class RouteAuthorizationTest {

  static final int GRPC_PORT = FreePort.find();
  static final List<String> SCOPES = List.of(Scopes.READ, Scopes.WRITE, Scopes.ADMIN);
  static final List<String> METHODS =
      List.of("GET", "HEAD", "OPTIONS", "PUT", "POST", "DELETE", "PATCH");

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
    registry.add("grpc.server.port", () -> GRPC_PORT);
  }

  @LocalServerPort int port;
  @LocalManagementPort int managementPort;

  @Autowired
  @Qualifier("requestMappingHandlerMapping")
  RequestMappingHandlerMapping mappings;

  /** The scope a call needs, from the design's table; null when it needs none. */
  static String required(String method, String path) {
    if (!path.startsWith("/api/")) {
      return null; // the OpenAPI document and its UI
    }
    return switch (method) {
      case "PUT" -> path.matches("/api/v1/[^/]+/[^/]+") ? Scopes.WRITE : Scopes.READ;
      case "POST" ->
          path.equals("/api/v1/batches") || path.equals("/api/v1/schedules")
              ? Scopes.WRITE
              : path.endsWith("/rollback") ? Scopes.ADMIN : Scopes.READ;
      case "DELETE" -> path.startsWith("/api/v1/schedules/") ? Scopes.WRITE : Scopes.ADMIN;
      default -> Scopes.READ; // GET, HEAD, OPTIONS, and methods nothing maps (then 405)
    };
  }

  static String token(Set<String> scopes) {
    return Tokens.mint("walker", String.join(" ", scopes), Duration.ofMinutes(5), Tokens.SECRET);
  }

  static String concrete(String pattern) {
    return pattern
        .replace("{kind}", "drop-tables")
        .replace("{id}", "dt-walk")
        .replaceAll("\\{[^}]+}", "x");
  }

  Set<String> apiPaths() {
    Set<String> paths = new TreeSet<>();
    mappings
        .getHandlerMethods()
        .keySet()
        .forEach(info -> info.getPatternValues().forEach(p -> paths.add(concrete(p))));
    assertThat(paths).as("the walk found the API").contains("/api/v1/batches", "/api/v1/revision");
    return paths;
  }

  @Test
  void everyRouteAndMethodRefusesATokenWithoutTheScopeItNeeds() {
    Http http = Http.anonymous(port);
    List<String> wrong = new ArrayList<>();
    int calls = 0;
    for (String path : apiPaths()) {
      for (String method : METHODS) {
        String scope = required(method, path);
        String call = method + " " + path;
        int anonymous = http.send(method, path, body(method), json()).status();
        if (scope == null) {
          continue; // open routes are checked below
        }
        calls++;
        expect(wrong, call + " without a token", anonymous, 401);
        for (String missing : SCOPES) {
          Set<String> others = new LinkedHashSet<>(SCOPES);
          others.remove(missing);
          int status = send(http, method, path, token(others));
          expect(wrong, call + " without " + missing, status, missing.equals(scope) ? 403 : -1);
        }
        expect(wrong, call + " with no scope", send(http, method, path, token(Set.of())), 403);
        int allowed = send(http, method, path, token(Set.of(scope)));
        if (allowed == 401 || allowed == 403) {
          wrong.add(call + " with only " + scope + ": " + allowed);
        }
      }
    }
    assertThat(calls).isGreaterThanOrEqualTo(7 * METHODS.size());
    assertThat(wrong).isEmpty();
  }

  @Test
  void theContractIsOpenAndActuatorOpensOnlyProbesAndMetricsScraping() {
    Http api = Http.anonymous(port);
    assertThat(api.get("/v3/api-docs").status()).isEqualTo(200);

    Http management = Http.anonymous(managementPort);
    String noAdmin = token(Set.of(Scopes.READ, Scopes.WRITE));
    List<String> wrong = new ArrayList<>();
    for (String path :
        List.of(
            "/actuator/health/liveness", "/actuator/health/readiness", "/actuator/prometheus")) {
      for (String method : List.of("GET", "HEAD")) {
        int status = management.send(method, path, null).status();
        if (status == 401 || status == 403) {
          wrong.add(method + " " + path + " without a token: " + status);
        }
      }
    }
    for (String path :
        List.of(
            "/actuator",
            "/actuator/health",
            "/actuator/info",
            "/actuator/metrics",
            "/actuator/metrics/jvm.memory.used")) {
      for (String method : METHODS) {
        expect(wrong, method + " " + path, management.send(method, path, null).status(), 401);
        int denied =
            management.send(method, path, null, "Authorization", "Bearer " + noAdmin).status();
        expect(wrong, method + " " + path + " without admin", denied, 403);
      }
    }
    assertThat(wrong).isEmpty();
  }

  @Test
  void everyGrpcMethodRefusesATokenWithoutTheScopeItNeeds() throws Exception {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("localhost", GRPC_PORT).usePlaintext().build();
    try {
      List<String> wrong = new ArrayList<>();
      for (var method : ConfigServiceGrpc.getServiceDescriptor().getMethods()) {
        String scope = method.getBareMethodName().startsWith("Put") ? Scopes.WRITE : Scopes.READ;
        for (String missing : SCOPES) {
          Set<String> others = new LinkedHashSet<>(SCOPES);
          others.remove(missing);
          Status.Code code = call(channel, method, token(others));
          boolean denied = code == Status.Code.PERMISSION_DENIED;
          if (denied != missing.equals(scope)) {
            wrong.add(method.getFullMethodName() + " without " + missing + ": " + code);
          }
        }
        Status.Code anonymous = call(channel, method, null);
        if (anonymous != Status.Code.UNAUTHENTICATED) {
          wrong.add(method.getFullMethodName() + " without a token: " + anonymous);
        }
      }
      assertThat(ConfigServiceGrpc.getServiceDescriptor().getMethods()).hasSizeGreaterThan(3);
      assertThat(wrong).isEmpty();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** One call with the method's empty request; the first response (or the error) decides. */
  static <Q, R> Status.Code call(ManagedChannel channel, MethodDescriptor<Q, R> method, String t) {
    Q request =
        ((MethodDescriptor.PrototypeMarshaller<Q>) method.getRequestMarshaller())
            .getMessagePrototype();
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS);
    if (t != null) {
      options = options.withCallCredentials(Tokens.bearer(t));
    }
    try {
      if (method.getType() == MethodDescriptor.MethodType.UNARY) {
        ClientCalls.blockingUnaryCall(channel, method, options, request);
      } else {
        Iterator<R> responses =
            ClientCalls.blockingServerStreamingCall(channel, method, options, request);
        responses.hasNext();
      }
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  static int send(Http http, String method, String path, String token) {
    String[] headers = json();
    String[] withToken = Arrays.copyOf(headers, headers.length + 2);
    withToken[headers.length] = "Authorization";
    withToken[headers.length + 1] = "Bearer " + token;
    return http.send(method, path, body(method), withToken).status();
  }

  static byte[] body(String method) {
    return Set.of("PUT", "POST", "PATCH").contains(method) ? "{}".getBytes() : null;
  }

  static String[] json() {
    return new String[] {"Content-Type", "application/json"};
  }

  /** expected -1: anything but a refusal by authorisation (401 / 403). */
  static void expect(List<String> wrong, String call, int status, int expected) {
    boolean ok = expected == -1 ? status != 401 && status != 403 : status == expected;
    if (!ok) {
      wrong.add(call + ": " + status + (expected == -1 ? "" : " (expected " + expected + ")"));
    }
  }
}
