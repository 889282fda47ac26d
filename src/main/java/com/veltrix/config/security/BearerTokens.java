package com.veltrix.config.security;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpHeaders;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.server.resource.BearerTokenErrors;
import org.springframework.security.oauth2.server.resource.web.BearerTokenResolver;
import org.springframework.security.oauth2.server.resource.web.DefaultBearerTokenResolver;

/**
 * The bearer token of the {@code Authorization} header, read as {@link DefaultBearerTokenResolver}
 * reads it with its defaults (no token in the query or a form body), without its regular
 * expression: a header that starts with {@code bearer} (any case) must be {@code Bearer }, one
 * space, then RFC 6750's token68 ({@code [a-zA-Z0-9-._~+/]+=*}), else the call is refused as a
 * malformed token. The expression was 2.4 % of a single write's CPU (docs/performance.md); {@code
 * BearerTokensTest} holds this to the same answers as the default on every input it tries.
 */
final class BearerTokens implements BearerTokenResolver {

  private static final String SCHEME = "bearer";

  @Override
  public String resolve(HttpServletRequest request) {
    return fromHeader(request.getHeader(HttpHeaders.AUTHORIZATION));
  }

  static String fromHeader(String header) {
    if (header == null || !header.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
      return null; // another scheme, or none: not ours to refuse
    }
    int start = SCHEME.length() + 1;
    if (header.length() <= start || header.charAt(SCHEME.length()) != ' ') {
      throw malformed();
    }
    int i = start;
    while (i < header.length() && isToken68(header.charAt(i))) {
      i++;
    }
    if (i == start) {
      throw malformed();
    }
    for (int j = i; j < header.length(); j++) {
      if (header.charAt(j) != '=') {
        throw malformed();
      }
    }
    return header.substring(start);
  }

  private static boolean isToken68(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '-'
        || c == '.'
        || c == '_'
        || c == '~'
        || c == '+'
        || c == '/';
  }

  private static OAuth2AuthenticationException malformed() {
    return new OAuth2AuthenticationException(
        BearerTokenErrors.invalidToken("Bearer token is malformed"));
  }
}
