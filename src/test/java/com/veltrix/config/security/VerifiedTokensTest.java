package com.veltrix.config.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.veltrix.config.support.Tokens;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;

/** The verified-token memory in front of the real HS256 decoder. */
class VerifiedTokensTest {

  private final AtomicInteger verifications = new AtomicInteger();
  private final JwtDecoder real = JwtDecodersTest.hmac(Tokens.SECRET);
  private final JwtDecoder counting =
      token -> {
        verifications.incrementAndGet();
        return real.decode(token);
      };

  @Test
  void aTokenIsVerifiedOnceThenRemembered() {
    VerifiedTokens tokens = new VerifiedTokens(counting, Clock.systemUTC());
    String token = Tokens.admin();

    assertThat(tokens.decode(token).getSubject()).isEqualTo("test-admin");
    assertThat(tokens.decode(token).getSubject()).isEqualTo("test-admin");
    assertThat(verifications).hasValue(1);
  }

  @Test
  void aRememberedTokenIsVerifiedAgainAfterItsExpiry() {
    String token = Tokens.mint("short", Tokens.ALL_SCOPES, Duration.ofMinutes(1), Tokens.SECRET);
    MutableClock clock = new MutableClock(Instant.now());
    VerifiedTokens tokens = new VerifiedTokens(counting, clock);
    tokens.decode(token);

    clock.now = clock.now.plus(Duration.ofSeconds(61));
    tokens.decode(token); // past exp but within the decoder's 60 s skew: verified again
    assertThat(verifications).hasValue(2);
  }

  @Test
  void noEntryOutlivesMaxAge() {
    MutableClock clock = new MutableClock(Instant.now());
    VerifiedTokens tokens = new VerifiedTokens(counting, clock);
    String token = Tokens.admin(); // valid for an hour
    tokens.decode(token);

    clock.now = clock.now.plus(VerifiedTokens.MAX_AGE).plusSeconds(1);
    tokens.decode(token);
    assertThat(verifications).hasValue(2);
  }

  @Test
  void aRejectedTokenIsNeverRemembered() {
    VerifiedTokens tokens = new VerifiedTokens(counting, Clock.systemUTC());
    String forged =
        Tokens.mint(
            "x", Tokens.ALL_SCOPES, Duration.ofHours(1), "another-secret-0123456789abcdef!");
    String expired = Tokens.mint("x", Tokens.ALL_SCOPES, Duration.ofMinutes(-5), Tokens.SECRET);

    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> tokens.decode(forged)).isInstanceOf(JwtException.class);
      assertThatThrownBy(() -> tokens.decode(expired)).isInstanceOf(JwtException.class);
    }
    assertThat(verifications).hasValue(4);
  }

  private static final class MutableClock extends Clock {
    Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
