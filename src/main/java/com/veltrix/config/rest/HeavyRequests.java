package com.veltrix.config.rest;

import com.veltrix.config.catalog.CallCapacity;
import com.veltrix.config.catalog.CatalogLimits;
import com.veltrix.config.catalog.OverloadedException;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.regex.Pattern;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.HandlerExceptionResolver;

/**
 * Reserves the memory of a heavy REST call ({@link CallCapacity}) before its body is read or the
 * database asked, and releases it once the answer is written: listings and histories by their
 * {@code limit}, batches by their body. Over capacity the answer is 429 with Retry-After.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 2)
class HeavyRequests extends OncePerRequestFilter {

  /** {@code /api/v1/{kind}} and {@code /api/v1/{kind}/{id}/versions}. */
  private static final Pattern PAGES = Pattern.compile("/api/v1/[a-z-]+(/[^/]+/versions)?");

  private final CallCapacity capacity;
  private final CatalogLimits limits;
  private final HandlerExceptionResolver resolver;

  HeavyRequests(
      CallCapacity capacity,
      CatalogLimits limits,
      @Qualifier("handlerExceptionResolver") HandlerExceptionResolver handlerExceptionResolver) {
    this.capacity = capacity;
    this.limits = limits;
    this.resolver = handlerExceptionResolver;
  }

  @Override
  protected boolean shouldNotFilter(HttpServletRequest request) {
    return !request.getRequestURI().startsWith("/api/v1/");
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    CallCapacity.Permit permit;
    try {
      permit = reserve(request);
    } catch (OverloadedException e) {
      resolver.resolveException(request, response, null, e);
      return;
    }
    try (permit) {
      chain.doFilter(request, response);
    }
  }

  private CallCapacity.Permit reserve(HttpServletRequest request) {
    String path = request.getRequestURI();
    if ("POST".equals(request.getMethod()) && path.equals("/api/v1/batches")) {
      long declared = request.getContentLengthLong();
      return capacity.forBatch(declared >= 0 ? declared : capacity.largestBatchBody(), "a batch");
    }
    if ("GET".equals(request.getMethod())
        && !path.equals("/api/v1/changes")
        && !path.equals("/api/v1/revision")
        && PAGES.matcher(path).matches()) {
      return capacity.forDocuments(items(request.getParameter("limit")), "a page");
    }
    return () -> {};
  }

  /** The page size asked for; a bad value is the controller's to refuse (400), at default cost. */
  private int items(String limit) {
    try {
      int value = limit == null ? limits.defaultPageSize() : Integer.parseInt(limit);
      return value >= 1 && value <= limits.maxPageSize() ? value : limits.defaultPageSize();
    } catch (NumberFormatException e) {
      return limits.defaultPageSize();
    }
  }
}
