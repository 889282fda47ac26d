package com.veltrix.config.rest;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.web.filter.OncePerRequestFilter;

/** A filter for the API's calls ({@code /api/...}) only: Actuator and the API docs pass by. */
abstract class ApiFilter extends OncePerRequestFilter {

  @Override
  protected boolean shouldNotFilter(HttpServletRequest request) {
    return !request.getRequestURI().startsWith("/api/");
  }
}
