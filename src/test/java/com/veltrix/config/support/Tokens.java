package com.veltrix.config.support;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.Executor;

/** HS256 tokens signed with the tests' key (src/test/resources/config/application.yaml). */
public final class Tokens {

  public static final String SECRET = "veltrix-test-hmac-secret-0123456789abcdef";
  public static final String ALL_SCOPES = "configs:read configs:write configs:admin";

  private Tokens() {}

  public static String admin() {
    return mint("test-admin", ALL_SCOPES, Duration.ofHours(1), SECRET);
  }

  public static String mint(String subject, String scope, Duration validFor, String secret) {
    return sign(claims(subject, scope, validFor).build(), secret);
  }

  /** The claims {@link #mint} signs, for a test that changes some of them. */
  public static JWTClaimsSet.Builder claims(String subject, String scope, Duration validFor) {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .subject(subject)
        .issuer("veltrix-tests")
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(validFor)))
        .claim("scope", scope);
  }

  public static String sign(JWTClaimsSet claims, String secret) {
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    try {
      jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }

  /** gRPC call credentials: {@code authorization: Bearer <token>}. */
  public static CallCredentials bearer(String token) {
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(
          RequestInfo info, Executor executor, MetadataApplier applier) {
        Metadata headers = new Metadata();
        headers.put(
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        applier.apply(headers);
      }
    };
  }
}
