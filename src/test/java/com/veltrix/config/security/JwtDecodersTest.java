package com.veltrix.config.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.veltrix.config.support.Tokens;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.security.oauth2.resource.OAuth2ResourceServerProperties;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtValidationException;

/** The token forms the HS256 decoder accepts and refuses (the claims rules are Boot's too). */
class JwtDecodersTest {

  /** The development decoder as the application builds it, without an audience. */
  static JwtDecoder hmac(String secret) {
    return hmac(secret, List.of());
  }

  static JwtDecoder hmac(String secret, List<String> audiences) {
    OAuth2ResourceServerProperties resourceServer = new OAuth2ResourceServerProperties();
    resourceServer.getJwt().setAudiences(audiences);
    JwtDecoders decoders = new JwtDecoders();
    return decoders.hmacJwtDecoder(
        new SecurityProperties(new SecurityProperties.Jwt(secret), null),
        resourceServer,
        List.of(decoders.requiredClaims()));
  }

  static final Duration FIVE_MINUTES = Duration.ofMinutes(5);

  @Test
  void acceptsASignedTokenWithSubjectAndExpiry() {
    String token = Tokens.mint("alice", "configs:read", FIVE_MINUTES, Tokens.SECRET);

    assertThat(hmac(Tokens.SECRET).decode(token).getSubject()).isEqualTo("alice");
  }

  @Test
  void refusesATokenWithoutExpiry() {
    String token =
        Tokens.sign(
            Tokens.claims("alice", "configs:read", FIVE_MINUTES).expirationTime(null).build(),
            Tokens.SECRET);

    assertThatThrownBy(() -> hmac(Tokens.SECRET).decode(token))
        .isInstanceOf(JwtValidationException.class)
        .hasMessageContaining("exp");
  }

  @Test
  void refusesATokenWithoutOrWithABlankSubject() {
    for (String subject : new String[] {null, " "}) {
      String token =
          Tokens.sign(
              Tokens.claims("alice", "configs:read", FIVE_MINUTES).subject(subject).build(),
              Tokens.SECRET);

      assertThatThrownBy(() -> hmac(Tokens.SECRET).decode(token))
          .isInstanceOf(JwtValidationException.class)
          .hasMessageContaining("sub");
    }
  }

  @Test
  void withAnAudienceConfiguredRefusesTokensForAnotherOrNoAudience() {
    JwtDecoder decoder = hmac(Tokens.SECRET, List.of("veltrix-config"));
    String ours =
        Tokens.sign(
            Tokens.claims("alice", "configs:read", FIVE_MINUTES)
                .audience(List.of("other", "veltrix-config"))
                .build(),
            Tokens.SECRET);
    String theirs =
        Tokens.sign(
            Tokens.claims("alice", "configs:read", FIVE_MINUTES).audience("billing").build(),
            Tokens.SECRET);
    String none = Tokens.mint("alice", "configs:read", FIVE_MINUTES, Tokens.SECRET);

    assertThat(decoder.decode(ours).getSubject()).isEqualTo("alice");
    assertThatThrownBy(() -> decoder.decode(theirs)).isInstanceOf(JwtValidationException.class);
    assertThatThrownBy(() -> decoder.decode(none)).isInstanceOf(JwtValidationException.class);
  }
}
