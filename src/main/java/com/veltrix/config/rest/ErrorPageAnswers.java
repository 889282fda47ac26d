package com.veltrix.config.rest;

import io.swagger.v3.oas.annotations.Hidden;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.time.Duration;
import org.springframework.boot.autoconfigure.web.ServerProperties;
import org.springframework.boot.web.servlet.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The answer to a request that Tomcat, or a filter, failed after routing: Tomcat forwards it to
 * {@code /error}, where Spring Boot's {@code BasicErrorController} wrote a JSON shape of its own
 * ({@code timestamp, status, error, path}). It is a problem detail here, as every other answer of
 * this API. The one that happens in practice: a request body that stopped arriving for {@code
 * server.tomcat.connection-timeout}, which Tomcat fails with 408 while the controller reads it (its
 * client, or the balancer's node in front of it, gone without a word; or a client too slow).
 */
@Hidden // not an operation of the API (/v3/api-docs)
@RestController
class ErrorPageAnswers implements ErrorController {

  private final String stalledBody;

  ErrorPageAnswers(ServerProperties server) {
    this.stalledBody = stalledBody(server);
  }

  /** What a 408 says: how long the service waited for the body's next byte. */
  static String stalledBody(ServerProperties server) {
    return "no byte of the request body came for "
        + connectionTimeout(server)
        + "; nothing was written";
  }

  /** How long a request waits for its client's next byte, or for room for the answer's. */
  static String connectionTimeout(ServerProperties server) {
    Duration timeout = server.getTomcat().getConnectionTimeout();
    if (timeout == null) {
      return "Tomcat's connection timeout";
    }
    return (timeout.toMillis() % 1000 == 0
            ? timeout.toSeconds() + " s"
            : timeout.toMillis() + " ms")
        + " (server.tomcat.connection-timeout)";
  }

  @RequestMapping("/error")
  ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
    Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
    HttpStatus status = code instanceof Integer value ? HttpStatus.resolve(value) : null;
    if (status == null || !status.isError()) {
      status = HttpStatus.INTERNAL_SERVER_ERROR;
    }
    String detail;
    if (status == HttpStatus.REQUEST_TIMEOUT) {
      detail = stalledBody;
    } else if (status.is5xxServerError()) {
      detail = "internal error; the request id is in X-Request-Id";
    } else {
      detail = "the request was refused: " + status.getReasonPhrase().toLowerCase();
    }
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
    if (request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI) instanceof String path) {
      problem.setInstance(URI.create(path));
    }
    return ResponseEntity.status(status)
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(problem);
  }
}
