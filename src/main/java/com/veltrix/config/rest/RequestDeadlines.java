package com.veltrix.config.rest;

import com.veltrix.config.catalog.CallContext;
import com.veltrix.config.catalog.RequestBudget;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * Starts an API call's deadline when the call arrives: the request budget covers reading and
 * validating its body, queueing for the write gate or a write group, and every database call it
 * makes with their retries. Without it each database call of a request started a budget of its own
 * when it began, so a request could be answered well past the budget: a body that arrived late, a
 * CPU run queue before the first query, or a read that makes two queries.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
class RequestDeadlines extends ApiFilter {

  private final RequestBudget budget;

  RequestDeadlines(RequestBudget budget) {
    this.budget = budget;
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    try (CallContext.Scope call = CallContext.open(budget.deadlineNanos())) {
      chain.doFilter(request, response);
    }
  }
}
