package com.veltrix.config.security;

import static com.veltrix.config.support.Payloads.dropTable;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.Tokens;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A production process (no profile {@code local}) with Spring Boot's decoder for an issuer's JWK
 * set, served here over HTTP with an RSA key: the tokens it accepts and the ones it refuses, and
 * that the development key is not among them.
 */
class ProductionTokensTest {

  static final String AUDIENCE = "veltrix-config";
  static RSAKey key;
  static HttpServer issuer;
  static ConfigurableApplicationContext service;
  static Http http;

  @BeforeAll
  static void start() throws Exception {
    key = new RSAKeyGenerator(2048).keyID("k1").generate();
    byte[] jwks = new JWKSet(key.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
    issuer = HttpServer.create(new InetSocketAddress("localhost", 0), 0);
    issuer.createContext(
        "/jwks",
        exchange -> {
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, jwks.length);
          exchange.getResponseBody().write(jwks);
          exchange.close();
        });
    issuer.start();
    String jwt = "--spring.security.oauth2.resourceserver.jwt.";
    service =
        StartupRequirementsTest.start(
            "--spring.profiles.active=production",
            jwt + "jwk-set-uri=http://localhost:" + issuer.getAddress().getPort() + "/jwks",
            jwt + "audiences=" + AUDIENCE,
            "--veltrix.security.page-token-key=" + StartupRequirementsTest.KEY);
    http =
        Http.anonymous(
            Integer.parseInt(service.getEnvironment().getRequiredProperty("local.server.port")));
  }

  @AfterAll
  static void stop() {
    if (service != null) {
      service.close();
    }
    if (issuer != null) {
      issuer.stop(0);
    }
  }

  static String token(UnaryOperator<JWTClaimsSet.Builder> change) throws Exception {
    JWTClaimsSet claims =
        change
            .apply(
                Tokens.claims("ops", Tokens.ALL_SCOPES, Duration.ofMinutes(5))
                    .audience(List.of(AUDIENCE)))
            .build();
    SignedJWT jwt =
        new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").build(), claims);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  int put(String token) {
    return http.put(
            "/api/v1/drop-tables/dt-prod-" + System.nanoTime(),
            dropTable("gold", 1),
            "Authorization",
            "Bearer " + token)
        .status();
  }

  @Test
  void acceptsTheIssuersTokensForThisAudience() throws Exception {
    assertThat(put(token(c -> c))).isEqualTo(201);
  }

  @Test
  void refusesTokensForAnotherOrNoAudienceWithoutExpiryOrSubject() throws Exception {
    assertThat(put(token(c -> c.audience("billing")))).as("another audience").isEqualTo(401);
    assertThat(put(token(c -> c.audience((String) null)))).as("no audience").isEqualTo(401);
    assertThat(put(token(c -> c.expirationTime(null)))).as("no exp").isEqualTo(401);
    assertThat(put(token(c -> c.subject(null)))).as("no sub").isEqualTo(401);
    assertThat(put(token(c -> c.expirationTime(new java.util.Date(0)))))
        .as("expired")
        .isEqualTo(401);
  }

  @Test
  void refusesTokensSignedWithTheDevelopmentKey() {
    String development =
        Tokens.mint("ops", Tokens.ALL_SCOPES, Duration.ofMinutes(5), Tokens.SECRET);

    assertThat(put(development)).isEqualTo(401);
  }
}
