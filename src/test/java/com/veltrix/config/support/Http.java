package com.veltrix.config.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A plain HTTP client for tests: real sockets, raw bodies, every header under the test's control.
 */
public final class Http {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient client =
      HttpClient.newBuilder()
          // plain HTTP/1.1: no h2c upgrade attempt on every new connection
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final String base;
  private final String token;

  /** A client that sends an admin token (all scopes) unless a call sets Authorization itself. */
  public Http(int port) {
    this(port, Tokens.admin());
  }

  private Http(int port, String token) {
    this.base = "http://localhost:" + port;
    this.token = token;
  }

  public String base() {
    return base;
  }

  /** A client that sends no token. */
  public static Http anonymous(int port) {
    return new Http(port, null);
  }

  public Response get(String path, String... headers) {
    return send("GET", path, null, headers);
  }

  public Response put(String path, String json, String... headers) {
    return send("PUT", path, bytes(json), with("Content-Type", "application/json", headers));
  }

  public Response post(String path, String json, String... headers) {
    return send("POST", path, bytes(json), with("Content-Type", "application/json", headers));
  }

  public Response delete(String path, String... headers) {
    return send("DELETE", path, null, headers);
  }

  /** Any method, raw body (may be null), headers as name/value pairs. */
  public Response send(String method, String path, byte[] body, String... headers) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    boolean authorization = false;
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
      authorization |= headers[i].equalsIgnoreCase("Authorization");
    }
    if (token != null && !authorization) {
      request.header("Authorization", "Bearer " + token);
    }
    request.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body));
    // The request's own timeout did not fire once in CI (JDK 17.0.15: a send stayed blocked for
    // minutes with every server thread idle); waiting on the future bounds the call regardless.
    CompletableFuture<HttpResponse<String>> call =
        client.sendAsync(
            request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    try {
      HttpResponse<String> response = call.get(35, TimeUnit.SECONDS);
      return new Response(response.statusCode(), response.headers().map(), response.body());
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io
          ? new UncheckedIOException(io)
          : new IllegalStateException(e.getCause());
    } catch (TimeoutException e) {
      call.cancel(true);
      throw new IllegalStateException(method + " " + path + " got no answer in 35 s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static byte[] bytes(String text) {
    return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
  }

  private static String[] with(String name, String value, String[] headers) {
    Map<String, String> all = new LinkedHashMap<>();
    all.put(name, value);
    for (int i = 0; i < headers.length; i += 2) {
      all.put(headers[i], headers[i + 1]);
    }
    return all.entrySet().stream()
        .flatMap(e -> java.util.stream.Stream.of(e.getKey(), e.getValue()))
        .toArray(String[]::new);
  }

  /** Status, headers and body; {@link #json()} parses the body. */
  public record Response(int status, Map<String, java.util.List<String>> headers, String body) {

    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + body, e);
      }
    }

    public Optional<String> header(String name) {
      return headers.entrySet().stream()
          .filter(e -> e.getKey().equalsIgnoreCase(name))
          .flatMap(e -> e.getValue().stream())
          .findFirst();
    }

    @Override
    public String toString() {
      return status + " " + body;
    }
  }
}
