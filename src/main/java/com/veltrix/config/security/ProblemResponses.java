package com.veltrix.config.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.security.authentication.AuthenticationCredentialsNotFoundException;
import org.springframework.security.authentication.InsufficientAuthenticationException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.oauth2.server.resource.web.BearerTokenAuthenticationEntryPoint;
import org.springframework.security.oauth2.server.resource.web.access.BearerTokenAccessDeniedHandler;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;

/**
 * 401 and 403 as RFC 9457 problem details, with the {@code WWW-Authenticate} header that the
 * bearer-token handlers set (RFC 6750); gRPC's refusals say the same ({@link GrpcRefusals}).
 */
final class ProblemResponses {

  /** What a refused call with a valid token is told, over REST (403) and gRPC. */
  static final String FORBIDDEN_DETAIL = "the token lacks the scope this call needs";

  private ProblemResponses() {}

  static AuthenticationEntryPoint unauthorized(ObjectMapper json) {
    BearerTokenAuthenticationEntryPoint bearer = new BearerTokenAuthenticationEntryPoint();
    return (request, response, e) -> {
      bearer.commence(request, response, e);
      write(json, response, HttpStatus.UNAUTHORIZED, unauthorizedDetail(e));
    };
  }

  /**
   * No bearer token at all (none sent, or another scheme such as Basic): say what to send, not
   * Spring Security's "An Authentication object was not found in the SecurityContext". A token that
   * was sent and refused: why (malformed, expired, wrong signature or audience).
   */
  static String unauthorizedDetail(AuthenticationException e) {
    if (e instanceof AuthenticationCredentialsNotFoundException
        || e instanceof InsufficientAuthenticationException) {
      return "a bearer token is required: send Authorization: Bearer <token>";
    }
    return "a valid bearer token is required: " + e.getMessage();
  }

  static AccessDeniedHandler forbidden(ObjectMapper json) {
    BearerTokenAccessDeniedHandler bearer = new BearerTokenAccessDeniedHandler();
    return (request, response, e) -> {
      bearer.handle(request, response, e);
      write(json, response, HttpStatus.FORBIDDEN, FORBIDDEN_DETAIL);
    };
  }

  private static void write(
      ObjectMapper json, HttpServletResponse response, HttpStatus status, String detail)
      throws IOException {
    response.setStatus(status.value());
    response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
    json.writeValue(response.getOutputStream(), ProblemDetail.forStatusAndDetail(status, detail));
  }
}
