package com.veltrix.config.security;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Authentication settings ({@code veltrix.security.*}). Production (no profile {@code local})
 * refuses {@code jwt.hmac-secret} and needs Spring's {@code
 * spring.security.oauth2.resourceserver.jwt.issuer-uri} (or {@code jwk-set-uri}), {@code
 * ...jwt.audiences} and {@code page-token-key} ({@link StartupRequirements}).
 *
 * @param jwt development and test tokens
 * @param pageTokenKey the key that signs page tokens, at least 32 bytes; every pod of one
 *     deployment needs the same one. Required in production; in development, unset: derived from
 *     {@code jwt.hmac-secret}, else random per process (then a listing's next page must come back
 *     to the same pod)
 */
@ConfigurationProperties("veltrix.security")
public record SecurityProperties(Jwt jwt, String pageTokenKey) {

  /**
   * @param hmacSecret an HS256 key (at least 32 bytes) for development and tests, accepted only
   *     with the profile {@code local}; refused when shorter
   */
  public record Jwt(String hmacSecret) {}

  public String hmacSecret() {
    return jwt == null ? null : jwt.hmacSecret();
  }
}
