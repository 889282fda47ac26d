package com.veltrix.config.security;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.oauth2.jose.jws.MacAlgorithm;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;

/**
 * The development/test decoder: HS256 with {@code veltrix.security.jwt.hmac-secret}. Without that
 * property Spring Boot builds the production decoder from the issuer or JWK set URI. Tokens with
 * {@code alg: none}, another algorithm or another key are rejected by the decoder; expiry is
 * checked (60 s clock skew).
 */
@Configuration(proxyBeanMethods = false)
class JwtDecoders {

  static final int MIN_SECRET_BYTES = 32;

  @Bean
  @ConditionalOnProperty("veltrix.security.jwt.hmac-secret")
  JwtDecoder hmacJwtDecoder(SecurityProperties properties) {
    byte[] secret = properties.hmacSecret().getBytes(StandardCharsets.UTF_8);
    if (secret.length < MIN_SECRET_BYTES) {
      throw new IllegalStateException(
          "veltrix.security.jwt.hmac-secret must be at least "
              + MIN_SECRET_BYTES
              + " bytes for HS256, got "
              + secret.length);
    }
    return NimbusJwtDecoder.withSecretKey(new SecretKeySpec(secret, "HmacSHA256"))
        .macAlgorithm(MacAlgorithm.HS256)
        .build();
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
