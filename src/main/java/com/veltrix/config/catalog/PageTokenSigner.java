package com.veltrix.config.catalog;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Makes page tokens tamper-evident: a token is its content and a truncated HMAC-SHA256 of it, so a
 * client can carry a token but not forge or edit one (another revision, another position, another
 * listing). Every pod of a deployment must share the key for a listing to page across pods.
 */
public final class PageTokenSigner {

  private static final int TAG_BYTES = 16;
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

  private final SecretKeySpec key;

  public PageTokenSigner(byte[] key) {
    if (key.length < 16) {
      throw new IllegalArgumentException("a page-token key needs at least 16 bytes");
    }
    this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
  }

  String sign(String content) {
    byte[] body = content.getBytes(StandardCharsets.UTF_8);
    return ENCODER.encodeToString(body) + "." + ENCODER.encodeToString(tag(body));
  }

  /** The content of a token this signer issued, or empty if it is malformed or was altered. */
  Optional<String> verify(String token) {
    int dot = token.indexOf('.');
    if (dot <= 0 || dot != token.lastIndexOf('.')) {
      return Optional.empty();
    }
    try {
      byte[] body = DECODER.decode(token.substring(0, dot));
      byte[] given = DECODER.decode(token.substring(dot + 1));
      return MessageDigest.isEqual(given, tag(body))
          ? Optional.of(new String(body, StandardCharsets.UTF_8))
          : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private byte[] tag(byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return Arrays.copyOf(mac.doFinal(body), TAG_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
