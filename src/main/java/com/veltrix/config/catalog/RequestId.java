package com.veltrix.config.catalog;

import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The id that ties a call's log lines, its answer and the versions it writes together: the caller's
 * ({@code X-Request-Id} / {@code x-request-id} metadata) when it follows {@link #RULE}, else a new
 * UUID. A caller's id that breaks the rule is refused (400 / INVALID_ARGUMENT) rather than silently
 * replaced, so the id a client logs is the id the service logs.
 */
public final class RequestId {

  public static final String RULE = "must be 1-128 characters of A-Z a-z 0-9 . _ : -";
  private static final Pattern ACCEPTED = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  private RequestId() {}

  public static boolean acceptable(String id) {
    return id != null && ACCEPTED.matcher(id).matches();
  }

  public static String generate() {
    return UUID.randomUUID().toString();
  }
}
