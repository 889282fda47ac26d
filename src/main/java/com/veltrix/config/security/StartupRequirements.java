package com.veltrix.config.security;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Profiles;

/**
 * Refuses to start a production process that lacks what production needs, listing everything that
 * is missing at once. Production is any process without the Spring profile {@code local} (which the
 * quick start and the tests set); it needs:
 *
 * <ul>
 *   <li>the token issuer: {@code spring.security.oauth2.resourceserver.jwt.issuer-uri} or {@code
 *       jwk-set-uri};
 *   <li>the audience this service accepts: {@code
 *       spring.security.oauth2.resourceserver.jwt.audiences};
 *   <li>a page-token key of at least 32 bytes shared by every pod: {@code
 *       veltrix.security.page-token-key};
 *   <li>no HS256 development key ({@code veltrix.security.jwt.hmac-secret}): it would replace the
 *       issuer's keys with one that anybody who has the key can sign with.
 * </ul>
 *
 * Runs after the configuration files are read (registered in {@code META-INF/spring.factories}),
 * before any bean is built.
 */
public class StartupRequirements implements EnvironmentPostProcessor, Ordered {

  static final String DEVELOPMENT_PROFILE = "local";
  static final int MIN_KEY_BYTES = 32;
  private static final String JWT = "spring.security.oauth2.resourceserver.jwt.";

  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE; // after ConfigDataEnvironmentPostProcessor
  }

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    List<String> missing = missing(environment);
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          "veltrix-config will not start in production: it needs\n  - "
              + String.join("\n  - ", missing)
              + "\nFor development, activate the Spring profile '"
              + DEVELOPMENT_PROFILE
              + "' (the quick start does).");
    }
  }

  static List<String> missing(ConfigurableEnvironment environment) {
    if (environment.acceptsProfiles(Profiles.of(DEVELOPMENT_PROFILE))) {
      return List.of();
    }
    Binder binder = Binder.get(environment);
    List<String> missing = new ArrayList<>();
    if (blank(environment.getProperty(JWT + "issuer-uri"))
        && blank(environment.getProperty(JWT + "jwk-set-uri"))) {
      missing.add("the token issuer: " + JWT + "issuer-uri (or " + JWT + "jwk-set-uri)");
    }
    List<String> audiences =
        binder.bind(JWT + "audiences", String[].class).map(List::of).orElse(List.of());
    if (audiences.stream().allMatch(StartupRequirements::blank)) {
      missing.add("the audience tokens must carry: " + JWT + "audiences");
    }
    String pageTokenKey = environment.getProperty("veltrix.security.page-token-key");
    if (blank(pageTokenKey)
        || pageTokenKey.getBytes(StandardCharsets.UTF_8).length < MIN_KEY_BYTES) {
      missing.add(
          "a page-token key of at least "
              + MIN_KEY_BYTES
              + " bytes, the same on every pod: veltrix.security.page-token-key");
    }
    if (!blank(environment.getProperty("veltrix.security.jwt.hmac-secret"))) {
      missing.add(
          "veltrix.security.jwt.hmac-secret unset: the HS256 development key is accepted only"
              + " with the profile '"
              + DEVELOPMENT_PROFILE
              + "')");
    }
    return missing;
  }

  private static boolean blank(String value) {
    return value == null || value.isBlank();
  }
}
