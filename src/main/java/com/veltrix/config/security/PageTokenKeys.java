package com.veltrix.config.security;

import com.veltrix.config.catalog.PageTokenSigner;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The page-token key: {@code veltrix.security.page-token-key} (at least 32 bytes; production
 * requires it, {@link StartupRequirements}); in development, else derived from the HS256 secret,
 * else random for this process (logged, since pages then only continue on the same pod).
 */
@Configuration(proxyBeanMethods = false)
class PageTokenKeys {

  private static final Logger log = LoggerFactory.getLogger(PageTokenKeys.class);

  @Bean
  PageTokenSigner pageTokenSigner(SecurityProperties properties) {
    if (properties.pageTokenKey() != null && !properties.pageTokenKey().isBlank()) {
      byte[] key = properties.pageTokenKey().getBytes(StandardCharsets.UTF_8);
      if (key.length < StartupRequirements.MIN_KEY_BYTES) {
        throw new IllegalStateException(
            "veltrix.security.page-token-key must be at least "
                + StartupRequirements.MIN_KEY_BYTES
                + " bytes, got "
                + key.length);
      }
      return new PageTokenSigner(key);
    }
    if (properties.hmacSecret() != null) {
      return new PageTokenSigner(derive(properties.hmacSecret()));
    }
    log.warn(
        "veltrix.security.page-token-key is not set: page tokens are signed with a random key and"
            + " a listing's next page must be served by the same pod. Set the same key on every pod.");
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return new PageTokenSigner(key);
  }

  private static byte[] derive(String secret) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return mac.doFinal("veltrix page tokens".getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
