package com.veltrix.config.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.actuate.autoconfigure.security.servlet.EndpointRequest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.config.observation.SecurityObservationSettings;
import org.springframework.security.config.web.PathPatternRequestMatcherBuilderFactoryBean;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.firewall.HttpFirewall;

/**
 * Who may call what over HTTP. Stateless bearer tokens (JWT); scopes become {@code SCOPE_*}
 * authorities.
 *
 * <pre>
 * GET, HEAD /api/v1/**                   configs:read
 * PUT  /api/v1/{kind}/{id}, POST /batches configs:write (a batch that retires: configs:admin)
 * DELETE, POST /{kind}/{id}/rollback      configs:admin
 * any other method or path                configs:read, then 404 / 405 from MVC
 * /v3/api-docs, /swagger-ui               open (the contract is not a secret)
 * management: liveness, readiness         open (Kubernetes probes carry no token)
 * management: prometheus                  open (the management port is reachable only inside
 *                                         the pod network: k8s NetworkPolicy, README)
 * management: everything else             configs:admin
 * </pre>
 */
@Configuration(proxyBeanMethods = false)
class WebSecurity {

  /**
   * No observation around each of the chain's dozen filters: on the point-read path they cost more
   * CPU than the read itself (async-profiler, docs/performance.md). Requests stay timed by {@code
   * http.server.requests}.
   */
  @Bean
  SecurityObservationSettings noFilterChainObservations() {
    return SecurityObservationSettings.noObservations();
  }

  /**
   * {@code requestMatchers(String)} match path patterns, as MVC's own mappings do, instead of
   * asking MVC for each request's handler (Spring Security 6.5's opt-in, gh-16573).
   */
  @Bean
  static PathPatternRequestMatcherBuilderFactoryBean pathPatternMatchers() {
    return new PathPatternRequestMatcherBuilderFactoryBean();
  }

  /** No handler lookup ahead of the chain: nothing in it needs one. */
  @Bean
  static BeanPostProcessor withoutHandlerLookupCache() {
    return new WithoutHandlerLookupCache();
  }

  /** The default firewall's rules, without its per-header regular expressions. */
  @Bean
  HttpFirewall firewall() {
    return HeaderCharacters.firewall();
  }

  @Bean
  @Order(1)
  SecurityFilterChain management(HttpSecurity http, ObjectMapper json) throws Exception {
    return common(http.securityMatcher(EndpointRequest.toAnyEndpoint()), json)
        .authorizeHttpRequests(
            auth ->
                auth.requestMatchers(
                        "/actuator/health/liveness",
                        "/actuator/health/liveness/**",
                        "/actuator/health/readiness",
                        "/actuator/health/readiness/**",
                        "/actuator/prometheus")
                    .permitAll()
                    .anyRequest()
                    .hasAuthority(Scopes.ADMIN_AUTHORITY))
        .build();
  }

  @Bean
  @Order(2)
  SecurityFilterChain api(HttpSecurity http, ObjectMapper json) throws Exception {
    return common(http, json)
        .authorizeHttpRequests(
            auth ->
                auth.requestMatchers(
                        "/v3/api-docs", "/v3/api-docs/**", "/swagger-ui.html", "/swagger-ui/**")
                    .permitAll()
                    .requestMatchers(HttpMethod.GET, "/api/v1/**")
                    .hasAuthority(Scopes.READ_AUTHORITY)
                    .requestMatchers(HttpMethod.HEAD, "/api/v1/**")
                    .hasAuthority(Scopes.READ_AUTHORITY)
                    // cancelling a schedule: configs:write (and configs:admin, checked by the
                    // controller, when the schedule retires)
                    .requestMatchers(HttpMethod.DELETE, "/api/v1/schedules/*")
                    .hasAuthority(Scopes.WRITE_AUTHORITY)
                    .requestMatchers(HttpMethod.DELETE, "/api/v1/**")
                    .hasAuthority(Scopes.ADMIN_AUTHORITY)
                    .requestMatchers(HttpMethod.POST, "/api/v1/*/*/rollback")
                    .hasAuthority(Scopes.ADMIN_AUTHORITY)
                    .requestMatchers(HttpMethod.PUT, "/api/v1/*/*")
                    .hasAuthority(Scopes.WRITE_AUTHORITY)
                    .requestMatchers(HttpMethod.POST, "/api/v1/batches", "/api/v1/schedules")
                    .hasAuthority(Scopes.WRITE_AUTHORITY)
                    // OPTIONS, PATCH, a PUT or POST to a path without that method, any unknown
                    // route: a reader's call; MVC then answers 404 / 405 (or OPTIONS' Allow).
                    .anyRequest()
                    .hasAuthority(Scopes.READ_AUTHORITY))
        .build();
  }

  private static HttpSecurity common(HttpSecurity http, ObjectMapper json) throws Exception {
    // Stateless bearer tokens: no CSRF, session, request cache, logout, anonymous principal or
    // servlet-API wrapping. Each of those is a filter every request passes through (the point
    // read's profile, docs/performance.md); a request without a token is refused the same way.
    return http.csrf(AbstractHttpConfigurer::disable)
        .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
        .requestCache(AbstractHttpConfigurer::disable)
        .logout(AbstractHttpConfigurer::disable)
        .anonymous(AbstractHttpConfigurer::disable)
        .servletApi(AbstractHttpConfigurer::disable)
        .oauth2ResourceServer(
            oauth ->
                oauth
                    .bearerTokenResolver(new BearerTokens())
                    .jwt(jwt -> {})
                    .authenticationEntryPoint(ProblemResponses.unauthorized(json))
                    .accessDeniedHandler(ProblemResponses.forbidden(json)))
        .exceptionHandling(
            e ->
                e.authenticationEntryPoint(ProblemResponses.unauthorized(json))
                    .accessDeniedHandler(ProblemResponses.forbidden(json)));
  }
}
