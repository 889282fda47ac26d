package com.veltrix.config.rest;

import jakarta.servlet.Filter;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/**
 * A REST answer leaves when it is complete, in one write with its {@code Content-Length}, instead
 * of being flushed out as a chunk the moment its body is written and followed by a chunked
 * encoding's last chunk: two writes on the socket, and two reads for the client, for every answer.
 * Spring MVC flushes after each body: Jackson's generator and the JSON converter call the response
 * stream's {@code flush()}, and a {@code ResponseEntity}'s handler calls the response's {@code
 * flushBuffer()}. Here both do nothing, so the body stays in Tomcat's response buffer until the
 * call ends, and Tomcat then sends it with its length. Nothing in this API streams: an answer
 * larger than the buffer (a 1,000-item page) still goes out piece by piece as the buffer fills,
 * chunked as before. A response is thus committed when its call ends, not when its body is written.
 */
@Configuration(proxyBeanMethods = false)
class WholeAnswers {

  /** Before the security chain (-100), whose response wrapper then wraps this one. */
  static final int ORDER = Ordered.HIGHEST_PRECEDENCE + 4;

  @Bean
  FilterRegistrationBean<Filter> answersLeaveWhole() {
    FilterRegistrationBean<Filter> registration =
        new FilterRegistrationBean<>(
            (request, response, chain) ->
                chain.doFilter(
                    request,
                    response instanceof HttpServletResponse http ? new Unflushed(http) : response));
    registration.setOrder(ORDER);
    registration.setName("answersLeaveWhole");
    return registration;
  }

  /** The response, whose flushes leave the bytes buffered. */
  static final class Unflushed extends HttpServletResponseWrapper {
    private ServletOutputStream stream;

    Unflushed(HttpServletResponse response) {
      super(response);
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
      if (stream == null) {
        stream = new NoFlush(super.getOutputStream());
      }
      return stream;
    }

    @Override
    public void flushBuffer() {
      // committed when the call ends, or when Tomcat's buffer fills
    }
  }

  private static final class NoFlush extends ServletOutputStream {
    private final ServletOutputStream target;

    NoFlush(ServletOutputStream target) {
      this.target = target;
    }

    @Override
    public void write(int b) throws IOException {
      target.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      target.write(b, off, len);
    }

    @Override
    public void flush() {
      // the response goes out complete when the call ends, or as Tomcat's buffer fills
    }

    @Override
    public void close() throws IOException {
      target.close();
    }

    @Override
    public boolean isReady() {
      return target.isReady();
    }

    @Override
    public void setWriteListener(WriteListener listener) {
      target.setWriteListener(listener);
    }
  }
}
