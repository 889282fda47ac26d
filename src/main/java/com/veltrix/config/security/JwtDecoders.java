package com.veltrix.config.security;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.security.oauth2.resource.OAuth2ResourceServerProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jose.jws.MacAlgorithm;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;

/**
 * Which tokens are accepted. Production: Spring Boot's decoder from {@code
 * spring.security.oauth2.resourceserver.jwt.issuer-uri} (or {@code jwk-set-uri}), which checks the
 * signature, {@code iss}, the time claims and {@code audiences}. Development (profile {@code local}
 * only, {@link StartupRequirements}): HS256 with {@code veltrix.security.jwt.hmac-secret}, with the
 * same time and audience checks. Both also require {@link #requiredClaims()}: a token without
 * {@code exp} or {@code sub} is refused (401) rather than honoured forever or written anonymously.
 * Tokens with {@code alg: none}, another algorithm or another key are rejected by the decoder.
 */
@Configuration(proxyBeanMethods = false)
class JwtDecoders {

  static final int MIN_SECRET_BYTES = 32;

  /** Boot adds every {@code OAuth2TokenValidator<Jwt>} bean to the decoder it builds. */
  @Bean
  OAuth2TokenValidator<Jwt> requiredClaims() {
    return new DelegatingOAuth2TokenValidator<>(
        new JwtClaimValidator<Object>("exp", exp -> exp != null),
        new JwtClaimValidator<Object>("sub", sub -> sub instanceof String s && !s.isBlank()));
  }

  @Bean
  @ConditionalOnProperty("veltrix.security.jwt.hmac-secret")
  JwtDecoder hmacJwtDecoder(
      SecurityProperties properties,
      OAuth2ResourceServerProperties resourceServer,
      List<OAuth2TokenValidator<Jwt>> validators) {
    byte[] secret = properties.hmacSecret().getBytes(StandardCharsets.UTF_8);
    if (secret.length < MIN_SECRET_BYTES) {
      throw new IllegalStateException(
          "veltrix.security.jwt.hmac-secret must be at least "
              + MIN_SECRET_BYTES
              + " bytes for HS256, got "
              + secret.length);
    }
    NimbusJwtDecoder decoder =
        NimbusJwtDecoder.withSecretKey(new SecretKeySpec(secret, "HmacSHA256"))
            .macAlgorithm(MacAlgorithm.HS256)
            .build();
    List<OAuth2TokenValidator<Jwt>> all = new ArrayList<>(validators);
    all.add(JwtValidators.createDefault()); // exp / nbf with 60 s of clock skew
    List<String> audiences = resourceServer.getJwt().getAudiences();
    if (!audiences.isEmpty()) {
      all.add(audience(audiences));
    }
    decoder.setJwtValidator(new DelegatingOAuth2TokenValidator<>(all));
    return decoder;
  }

  static OAuth2TokenValidator<Jwt> audience(List<String> accepted) {
    return jwt ->
        jwt.getAudience() != null && jwt.getAudience().stream().anyMatch(accepted::contains)
            ? OAuth2TokenValidatorResult.success()
            : OAuth2TokenValidatorResult.failure(
                new OAuth2Error("invalid_token", "the token is not meant for this service", null));
  }

  /**
   * Every decoder, the HS256 one above or Boot's issuer/JWK-set one, remembers what it verified.
   */
  @Bean
  static BeanPostProcessor rememberVerifiedTokens() {
    return new BeanPostProcessor() {
      @Override
      public Object postProcessAfterInitialization(Object bean, String name) {
        return bean instanceof JwtDecoder decoder && !(bean instanceof VerifiedTokens)
            ? new VerifiedTokens(decoder, Clock.systemUTC())
            : bean;
      }
    };
  }
}
