package com.veltrix.config.security;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;

/**
 * Remembers tokens the decoder has already verified, so that a client sending the same token on
 * every call pays for the signature check and claim parsing once. An entry is used until the
 * token's own expiry or for {@link #MAX_AGE}, whichever comes first (so a key withdrawn from the
 * issuer's JWK set stops being honoured within that time); a token that fails verification is never
 * remembered. The same string is the same signature over the same claims, so a hit is exactly as
 * valid as a fresh decode.
 */
final class VerifiedTokens implements JwtDecoder {

  static final Duration MAX_AGE = Duration.ofMinutes(5);
  static final int MAX_ENTRIES = 10_000;

  private final JwtDecoder decoder;
  private final Clock clock;
  private final Map<String, Verified> verified = new ConcurrentHashMap<>();

  private record Verified(Jwt jwt, Instant until) {}

  VerifiedTokens(JwtDecoder decoder, Clock clock) {
    this.decoder = decoder;
    this.clock = clock;
  }

  @Override
  public Jwt decode(String token) {
    Instant now = clock.instant();
    Verified hit = verified.get(token);
    if (hit != null && now.isBefore(hit.until())) {
      return hit.jwt();
    }
    Jwt jwt = decoder.decode(token); // throws when invalid or expired: nothing is remembered
    Instant until = now.plus(MAX_AGE);
    if (jwt.getExpiresAt() != null && jwt.getExpiresAt().isBefore(until)) {
      until = jwt.getExpiresAt();
    }
    if (verified.size() >= MAX_ENTRIES) {
      verified.clear(); // crude, and rare: ten thousand distinct live tokens
    }
    verified.put(token, new Verified(jwt, until));
    return jwt;
  }
}
