package com.veltrix.config.security;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Authentication settings ({@code veltrix.security.*}). In production, leave {@code
 * jwt.hmac-secret} unset and configure the issuer with Spring's {@code
 * spring.security.oauth2.resourceserver.jwt.issuer-uri} (or {@code jwk-set-uri}).
 *
 * @param jwt development and test tokens
 * @param pageTokenKey the key that signs page tokens; every pod of one deployment needs the same
 *     one. Unset: derived from {@code jwt.hmac-secret}, else random per process (then a listing's
 *     next page must come back to the same pod)
 */
@ConfigurationProperties("veltrix.security")
public record SecurityProperties(Jwt jwt, String pageTokenKey) {

  /**
   * @param hmacSecret an HS256 key (at least 32 bytes) for development and tests; refused when
   *     shorter
   */
  public record Jwt(String hmacSecret) {}

  public String hmacSecret() {
    return jwt == null ? null : jwt.hmacSecret();
  }
}
