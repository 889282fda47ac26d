package com.veltrix.config.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.catalog.RequestId;
import com.veltrix.config.catalog.write.WriteContext;
import com.veltrix.config.security.Permissions;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.slf4j.MDC;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Gives every request an id: the caller's {@code X-Request-Id}, else a new UUID. It is echoed in
 * the response, in the MDC ({@code requestId}) of every log line the request writes, and stored
 * with every version the request writes. An id that breaks {@link RequestId#RULE} is refused with
 * 400 before anything else runs (the answer carries a new id).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
class RequestIds extends OncePerRequestFilter {

  static final String HEADER = "X-Request-Id";
  private static final String ATTRIBUTE = RequestIds.class.getName();
  private final ObjectMapper json;

  RequestIds(ObjectMapper json) {
    this.json = json;
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    String given = request.getHeader(HEADER);
    String id = given == null ? RequestId.generate() : given;
    if (given != null && !RequestId.acceptable(given)) {
      refuse(response, RequestId.generate());
      return;
    }
    request.setAttribute(ATTRIBUTE, id);
    response.setHeader(HEADER, id);
    MDC.put("requestId", id);
    try {
      chain.doFilter(request, response);
    } finally {
      MDC.remove("requestId");
    }
  }

  private void refuse(HttpServletResponse response, String id) throws IOException {
    ProblemDetail problem =
        ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, HEADER + ": " + RequestId.RULE);
    problem.setProperty("errors", List.of(Map.of("parameter", HEADER, "message", RequestId.RULE)));
    response.setHeader(HEADER, id);
    RefusedBeforeRouting.write(json, response, problem);
  }

  static String of(HttpServletRequest request) {
    Object id = request.getAttribute(ATTRIBUTE);
    return id != null ? id.toString() : RequestId.generate();
  }

  /** The writer is the token's subject; the request id goes with it into every version. */
  static WriteContext context(HttpServletRequest request) {
    String actor =
        Permissions.caller()
            .orElseThrow(() -> new IllegalStateException("writes are authenticated"));
    return new WriteContext(actor, of(request));
  }
}
