package com.veltrix.config.catalog;

import java.util.Optional;

/**
 * An opaque continuation token: the listing it belongs to ({@code scope}), the revision all its
 * pages are read at, and the last position returned, signed ({@link PageTokenSigner}). A token is
 * refused (400) if it is malformed, altered or belongs to another listing.
 */
record PageToken(String scope, long revision, String position) {

  private static final String VERSION = "v1";

  String encode(PageTokenSigner signer) {
    return signer.sign(String.join("\n", VERSION, scope, Long.toString(revision), position));
  }

  static Optional<PageToken> decode(
      Optional<String> token, String expectedScope, PageTokenSigner signer) {
    if (token.isEmpty() || token.get().isEmpty()) {
      return Optional.empty();
    }
    String[] parts =
        signer
            .verify(token.get())
            .orElseThrow(() -> invalid("is not a valid page token (malformed or altered)"))
            .split("\n", -1);
    if (parts.length != 4 || !VERSION.equals(parts[0])) {
      throw invalid("is not a valid page token");
    }
    if (!expectedScope.equals(parts[1])) {
      throw invalid("belongs to a different listing (other kind, id or filters)");
    }
    long revision;
    try {
      revision = Long.parseLong(parts[2]);
    } catch (NumberFormatException e) {
      throw invalid("is not a valid page token");
    }
    if (revision < 0 || parts[3].isEmpty()) {
      throw invalid("is not a valid page token");
    }
    return Optional.of(new PageToken(parts[1], revision, parts[3]));
  }

  private static InvalidInputException invalid(String message) {
    return InvalidInputException.parameter("pageToken", message);
  }
}
