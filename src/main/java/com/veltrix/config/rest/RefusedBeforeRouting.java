package com.veltrix.config.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.Writer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;

/**
 * Requests refused before any controller sees them get a problem detail, as every other refusal of
 * this API does ({@link RestExceptionHandler}), saying what was refused:
 *
 * <ul>
 *   <li>Tomcat refuses a path with an encoded {@code /}, {@code \} or NUL, a request target with a
 *       character a URL must encode ({@code |}, <code>{</code>), a malformed request line or
 *       header. Its error report valve answered with an HTML page; {@link ProblemReportValve} takes
 *       its place on the host.
 *   <li>Spring Security's firewall refuses a {@code ;}, {@code //}, an encoded {@code %} or a
 *       {@code ..} segment in the path, or a control character in a header ({@link
 *       #write(ObjectMapper, HttpServletResponse, String)}, called by {@link RequestTimers}). Its
 *       default handler sent an error that Spring Boot forwarded to {@code /error} through the
 *       security chain, and a caller with a valid token got 401 "An Authentication object was not
 *       found in the SecurityContext".
 * </ul>
 */
@Component
class RefusedBeforeRouting
    implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, Ordered {

  static final String WHAT_PATHS_HOLD =
      "ids are 1-128 characters of [A-Za-z0-9._-]; a path never needs an encoded '/', '\\', '%'"
          + " or NUL, a ';', '//' or a '..' segment";

  private final ObjectMapper json;

  RefusedBeforeRouting(ObjectMapper json) {
    this.json = json;
  }

  /** After Spring Boot's own customizer, which puts an {@link ErrorReportValve} on the host. */
  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE;
  }

  @Override
  public void customize(TomcatServletWebServerFactory factory) {
    factory.addContextCustomizers(
        context -> {
          if (context.getParent() instanceof StandardHost host) {
            for (Valve valve : host.getPipeline().getValves()) {
              if (valve instanceof ErrorReportValve) {
                host.getPipeline().removeValve(valve);
              }
            }
            host.getPipeline().addValve(new ProblemReportValve(json));
            // the host adds a valve of this class at start unless it has one already
            host.setErrorReportValveClass(ProblemReportValve.class.getName());
          }
        });
  }

  /** Answers a request the firewall refused (400) with what it refused. */
  static void write(ObjectMapper json, HttpServletResponse response, String refusal)
      throws IOException {
    write(json, response, problem(HttpStatus.BAD_REQUEST.value(), refusal));
  }

  /** Answers with {@code problem}, from a filter: before any controller and its error mapping. */
  static void write(ObjectMapper json, HttpServletResponse response, ProblemDetail problem)
      throws IOException {
    response.setStatus(problem.getStatus());
    response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
    json.writeValue(response.getOutputStream(), problem);
  }

  /**
   * {@code refusal} is Tomcat's or the firewall's reason, or null: Tomcat gives none for a request
   * line or header it cannot parse or whose headers exceed {@code
   * server.max-http-request-header-size} (8 KB by default).
   */
  static ProblemDetail problem(int status, String refusal) {
    String detail;
    if (refusal == null || refusal.isBlank()) {
      detail =
          status == HttpStatus.BAD_REQUEST.value()
              ? "the request was refused before routing: its request line or a header is"
                  + " malformed, or its headers are too large"
              : "the request was refused before routing";
    } else {
      detail = "the request was refused before routing: " + refusal;
      if (refusal.contains("URI") || refusal.contains("URL")) {
        detail += " (" + WHAT_PATHS_HOLD + ")";
      }
    }
    return ProblemDetail.forStatusAndDetail(HttpStatus.valueOf(status), detail);
  }

  /**
   * Tomcat's error report valve writing a problem detail instead of HTML, for the answers no
   * servlet wrote: requests Tomcat refused before routing them (every answer the application
   * writes, errors included, has its body already and is left alone).
   */
  static final class ProblemReportValve extends ErrorReportValve {

    private final ObjectMapper json;

    ProblemReportValve(ObjectMapper json) {
      this.json = json;
    }

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
      // what ErrorReportValve#report checks first: an error, nothing written, not yet reported
      int status = response.getStatus();
      if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
        return;
      }
      AtomicBoolean ioAllowed = new AtomicBoolean(false);
      response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
      if (!ioAllowed.get() || HttpStatus.resolve(status) == null) {
        return;
      }
      try {
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.setCharacterEncoding("UTF-8");
        Writer writer = response.getReporter();
        if (writer != null) {
          writer.write(json.writeValueAsString(problem(status, response.getMessage())));
          response.finishResponse();
        }
      } catch (IOException | IllegalStateException e) {
        // the client is gone or the response cannot be written: nothing more to tell it
      }
    }
  }
}
