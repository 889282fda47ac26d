package com.veltrix.config.rest;

import com.veltrix.config.LogText;
import com.veltrix.config.catalog.CatalogLimits;
import com.veltrix.config.catalog.PayloadTooLargeException;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.HandlerExceptionResolver;

/**
 * Refuses request bodies over their limit before anything parses them: the batch limit for {@code
 * POST /api/v1/batches}, the payload limit for every other call. A declared Content-Length over the
 * limit is refused at once; a chunked body is cut off as soon as it passes the limit. A body with a
 * Content-Encoding other than {@code identity} (gzip, ...) is refused (a request without a body is
 * left alone, whatever it declares) with 415 and {@code Accept-Encoding: identity} (RFC 9110,
 * 15.5.16): it was read as JSON and refused for its first byte.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
class BodyLimits extends OncePerRequestFilter {

  private final CatalogLimits limits;
  private final HandlerExceptionResolver resolver;

  BodyLimits(
      CatalogLimits limits,
      @Qualifier("handlerExceptionResolver") HandlerExceptionResolver handlerExceptionResolver) {
    this.limits = limits;
    this.resolver = handlerExceptionResolver;
  }

  @Override
  protected boolean shouldNotFilter(HttpServletRequest request) {
    return !request.getRequestURI().startsWith("/api/");
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    String encoding = request.getHeader(HttpHeaders.CONTENT_ENCODING);
    boolean body =
        request.getContentLengthLong() > 0
            || request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null;
    if (body
        && encoding != null
        && !encoding.isBlank()
        && !encoding.trim().equalsIgnoreCase("identity")) {
      ErrorResponseException refused =
          new ErrorResponseException(
              HttpStatus.UNSUPPORTED_MEDIA_TYPE,
              ProblemDetail.forStatusAndDetail(
                  HttpStatus.UNSUPPORTED_MEDIA_TYPE,
                  "Content-Encoding '"
                      + LogText.escape(encoding.trim())
                      + "' is not accepted; send the body uncompressed"),
              null);
      refused.getHeaders().set(HttpHeaders.ACCEPT_ENCODING, "identity");
      resolver.resolveException(request, response, null, refused);
      return;
    }
    boolean batch = request.getRequestURI().equals("/api/v1/batches");
    long limit = (batch ? limits.maxBatchSize() : limits.maxPayloadSize()).toBytes();
    String what = batch ? "batch" : "request body";
    long declared = request.getContentLengthLong();
    if (declared > limit) {
      resolver.resolveException(request, response, null, tooLarge(what, declared, limit));
      return;
    }
    chain.doFilter(new Limited(request, limit, what), response);
  }

  private static PayloadTooLargeException tooLarge(String what, long size, long limit) {
    return new PayloadTooLargeException(
        what
            + " is "
            + (size > 0 ? size + " bytes" : "larger than the limit")
            + "; the limit is "
            + limit
            + " bytes");
  }

  private static final class Limited extends HttpServletRequestWrapper {
    private final long limit;
    private final String what;
    private ServletInputStream stream;

    Limited(HttpServletRequest request, long limit, String what) {
      super(request);
      this.limit = limit;
      this.what = what;
    }

    @Override
    public ServletInputStream getInputStream() throws IOException {
      if (stream == null) {
        stream = new CountingStream(super.getInputStream(), limit, what);
      }
      return stream;
    }
  }

  private static final class CountingStream extends ServletInputStream {
    private final ServletInputStream in;
    private final long limit;
    private final String what;
    private long count;

    CountingStream(ServletInputStream in, long limit, String what) {
      this.in = in;
      this.limit = limit;
      this.what = what;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        count(1);
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = in.read(buffer, offset, length);
      if (n > 0) {
        count(n);
      }
      return n;
    }

    private void count(int n) {
      count += n;
      if (count > limit) {
        throw tooLarge(what, -1, limit);
      }
    }

    @Override
    public boolean isFinished() {
      return in.isFinished();
    }

    @Override
    public boolean isReady() {
      return in.isReady();
    }

    @Override
    public void setReadListener(ReadListener listener) {
      in.setReadListener(listener);
    }
  }
}
