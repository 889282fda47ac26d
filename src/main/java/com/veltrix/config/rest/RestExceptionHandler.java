package com.veltrix.config.rest;

import com.veltrix.config.LogText;
import com.veltrix.config.catalog.CatalogException;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.DocumentNotFoundException;
import com.veltrix.config.catalog.IdempotencyKeyReusedException;
import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.OverloadedException;
import com.veltrix.config.catalog.PayloadTooLargeException;
import com.veltrix.config.catalog.PreconditionFailedException;
import com.veltrix.config.catalog.ReferenceConflictException;
import com.veltrix.config.catalog.RevisionNotRetainedException;
import com.veltrix.config.catalog.RevisionOutOfRangeException;
import com.veltrix.config.catalog.ScheduleNotPendingException;
import com.veltrix.config.catalog.StoreUnavailableException;
import com.veltrix.config.catalog.Violation;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.web.ServerProperties;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.lang.Nullable;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.context.request.async.AsyncRequestNotUsableException;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/**
 * The one mapping from failures to RFC 9457 problem details. Domain refusals map by type (table
 * below); Spring MVC's own (415, 405, unreadable body...) come from the base class. 4xx are logged
 * at WARN without a stack trace, 5xx at ERROR; no stack trace ever reaches a client.
 *
 * <pre>
 * InvalidInputException          400  errors: [{pointer | parameter, message}]
 * RevisionOutOfRangeException    400  errors: [{parameter, message}]
 * RevisionNotRetainedException   410  oldestRetainedRevision
 * DocumentNotFoundException      404
 * ReferenceConflictException     409  missing / referrers
 * PreconditionFailedException    412  currentVersion
 * PayloadTooLargeException       413
 * IdempotencyKeyReusedException  422
 * OverloadedException            429  Retry-After (this pod is at a cap: heavy calls, watches)
 * StoreUnavailableException      503  Retry-After
 * AccessDeniedException          403  (a batch that retires without configs:admin)
 * a body that stopped arriving   408  (answered by Tomcat, through ErrorPageAnswers)
 * anything else                  500
 * </pre>
 */
@RestControllerAdvice
class RestExceptionHandler extends ResponseEntityExceptionHandler {

  private static final Logger log = LoggerFactory.getLogger(RestExceptionHandler.class);
  static final String RETRY_AFTER_SECONDS = "1";

  private final String stalledBody;
  private final String connectionTimeout;

  RestExceptionHandler(ServerProperties server) {
    this.stalledBody = ErrorPageAnswers.stalledBody(server);
    this.connectionTimeout = ErrorPageAnswers.connectionTimeout(server);
  }

  @ExceptionHandler(CatalogException.class)
  ResponseEntity<ProblemDetail> refused(CatalogException e) {
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(statusOf(e), e.getMessage());
    if (e instanceof InvalidInputException invalid) {
      problem.setProperty("errors", invalid.violations().stream().map(this::error).toList());
    } else if (e instanceof RevisionOutOfRangeException range) {
      problem.setProperty(
          "errors", List.of(Map.of("parameter", range.parameter(), "message", e.getMessage())));
    } else if (e instanceof RevisionNotRetainedException gone) {
      problem.setProperty("oldestRetainedRevision", gone.oldestRetained());
    } else if (e instanceof PreconditionFailedException failed) {
      problem.setProperty("currentVersion", failed.currentVersion());
    } else if (e instanceof ReferenceConflictException conflict) {
      if (!conflict.missing().isEmpty()) {
        problem.setProperty("missing", keys(conflict.missing()));
      }
      if (!conflict.referrers().isEmpty()) {
        problem.setProperty("referrers", keys(conflict.referrers()));
      }
    }
    log.warn("{} {}", problem.getStatus(), LogText.escape(e.getMessage()));
    if (e instanceof OverloadedException) {
      return ResponseEntity.status(problem.getStatus())
          .header(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS)
          .body(problem);
    }
    return ResponseEntity.status(problem.getStatus()).body(problem);
  }

  @ExceptionHandler(StoreUnavailableException.class)
  ResponseEntity<ProblemDetail> unavailable(StoreUnavailableException e) {
    if (e.circuitOpen()) {
      log.debug("503 {}", e.getMessage());
    } else {
      log.error(
          "503 {}: {}",
          LogText.escape(e.getMessage()),
          LogText.escape(String.valueOf(e.getCause())));
    }
    ProblemDetail problem =
        ProblemDetail.forStatusAndDetail(
            HttpStatus.SERVICE_UNAVAILABLE,
            e.queuedInThisPod()
                ? StoreUnavailableException.QUEUED_ANSWER
                : "the database is unavailable; retry shortly");
    return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
        .header(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS)
        .body(problem);
  }

  @ExceptionHandler(MethodArgumentTypeMismatchException.class)
  ResponseEntity<ProblemDetail> badParameter(MethodArgumentTypeMismatchException e) {
    String expected =
        e.getRequiredType() == null ? "another type" : e.getRequiredType().getSimpleName();
    if (e.getParameter().getGenericParameterType().getTypeName().contains("Long")
        || e.getParameter().getGenericParameterType().getTypeName().contains("Integer")) {
      expected = "a whole number";
    }
    return refused(
        InvalidInputException.parameter(
            e.getName(), "must be " + expected + ", was '" + e.getValue() + "'"));
  }

  /**
   * Jackson lets BigDecimal's own refusal escape for numbers with absurd exponents ({@code
   * 1E8888880888889}); found by the fuzz test. A bad number is bad input.
   */
  @ExceptionHandler(NumberFormatException.class)
  ResponseEntity<ProblemDetail> badNumber(NumberFormatException e) {
    return refused(
        new InvalidInputException(
            List.of(
                Violation.at("", "malformed JSON: a number is out of range: " + e.getMessage()))));
  }

  @ExceptionHandler(AccessDeniedException.class)
  ResponseEntity<ProblemDetail> forbidden(AccessDeniedException e) {
    log.warn("403 {}", LogText.escape(e.getMessage()));
    return ResponseEntity.status(HttpStatus.FORBIDDEN)
        .body(ProblemDetail.forStatusAndDetail(HttpStatus.FORBIDDEN, e.getMessage()));
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<ProblemDetail> unexpected(Exception e) {
    log.error("500 unexpected failure", e);
    return ResponseEntity.internalServerError()
        .body(
            ProblemDetail.forStatusAndDetail(
                HttpStatus.INTERNAL_SERVER_ERROR,
                "internal error; the request id is in X-Request-Id"));
  }

  /** Unreadable bodies: say where the JSON broke, as a pointer into the body. */
  @Override
  protected ResponseEntity<Object> handleHttpMessageNotReadable(
      HttpMessageNotReadableException e,
      HttpHeaders headers,
      HttpStatusCode status,
      WebRequest request) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof PayloadTooLargeException tooLarge) {
        return cast(refused(tooLarge));
      }
      if (t instanceof SocketTimeoutException) {
        // Tomcat has answered 408 already (ErrorPageAnswers writes it); this is the log's line
        log.warn("408 {}", stalledBody);
        return cast(
            ResponseEntity.status(HttpStatus.REQUEST_TIMEOUT)
                .body(ProblemDetail.forStatusAndDetail(HttpStatus.REQUEST_TIMEOUT, stalledBody)));
      }
    }
    return cast(refused(new InvalidInputException(List.of(UnreadableBody.violation(e)))));
  }

  /**
   * The client took no byte of the answer for {@code server.tomcat.connection-timeout}: gone
   * without a word, or not reading. Spring logs a client gone (a reset, a close) at DEBUG, as it is
   * common and harmless; this one held a request thread, and the memory of a heavy call, that long.
   */
  @Override
  protected ResponseEntity<Object> handleAsyncRequestNotUsableException(
      AsyncRequestNotUsableException e, WebRequest request) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SocketTimeoutException) {
        log.warn(
            "the client took no byte of the answer for {}; the call is ended", connectionTimeout);
        break;
      }
    }
    return super.handleAsyncRequestNotUsableException(e, request);
  }

  /**
   * A path no route matches: Spring MVC's own text ("No static resource ...") spoke of files this
   * API does not serve.
   */
  @Override
  protected ResponseEntity<Object> handleNoResourceFoundException(
      NoResourceFoundException e, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
    ProblemDetail problem =
        ProblemDetail.forStatusAndDetail(
            HttpStatus.NOT_FOUND,
            "no such endpoint: "
                + e.getHttpMethod()
                + " /"
                + e.getResourcePath()
                + "; the API is described at /v3/api-docs");
    return handleExceptionInternal(e, problem, headers, HttpStatus.NOT_FOUND, request);
  }

  /** Everything else Spring MVC raises (405, 406, 415, missing parameters...) is a 4xx: WARN. */
  @Override
  protected ResponseEntity<Object> handleExceptionInternal(
      Exception e,
      @Nullable Object body,
      HttpHeaders headers,
      HttpStatusCode status,
      WebRequest request) {
    if (status.is4xxClientError()) {
      // an ErrorResponse's detail is the sentence the client gets; its message adds its fields
      String what =
          e instanceof ErrorResponse response && response.getBody().getDetail() != null
              ? response.getBody().getDetail()
              : e.getMessage();
      log.warn("{} {}", status.value(), LogText.escape(what));
    } else {
      log.error("{} {}", status.value(), LogText.escape(e.getMessage()), e);
    }
    return super.handleExceptionInternal(e, body, headers, status, request);
  }

  private Map<String, Object> error(Violation v) {
    return v.pointer() != null
        ? Map.of("pointer", v.pointer(), "message", v.message())
        : Map.of("parameter", v.parameter(), "message", v.message());
  }

  private static List<Map<String, String>> keys(List<DocumentKey> keys) {
    return keys.stream().map(k -> Map.of("kind", k.kind().name(), "id", k.id())).toList();
  }

  private static HttpStatus statusOf(CatalogException e) {
    if (e instanceof DocumentNotFoundException) {
      return HttpStatus.NOT_FOUND;
    } else if (e instanceof PreconditionFailedException) {
      return HttpStatus.PRECONDITION_FAILED;
    } else if (e instanceof ReferenceConflictException
        || e instanceof ScheduleNotPendingException) {
      return HttpStatus.CONFLICT;
    } else if (e instanceof PayloadTooLargeException) {
      return HttpStatus.PAYLOAD_TOO_LARGE;
    } else if (e instanceof IdempotencyKeyReusedException) {
      return HttpStatus.UNPROCESSABLE_ENTITY;
    } else if (e instanceof OverloadedException) {
      return HttpStatus.TOO_MANY_REQUESTS;
    } else if (e instanceof RevisionNotRetainedException) {
      return HttpStatus.GONE;
    }
    return HttpStatus.BAD_REQUEST;
  }

  @SuppressWarnings("unchecked")
  private static ResponseEntity<Object> cast(ResponseEntity<?> response) {
    return (ResponseEntity<Object>) response;
  }
}
