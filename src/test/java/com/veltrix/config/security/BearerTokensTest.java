package com.veltrix.config.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.server.resource.web.BearerTokenResolver;
import org.springframework.security.oauth2.server.resource.web.DefaultBearerTokenResolver;

/** {@link BearerTokens} answers every header as Spring Security's default resolver does. */
class BearerTokensTest {

  private static final DefaultBearerTokenResolver DEFAULT = new DefaultBearerTokenResolver();

  @Test
  void answersAsTheDefaultResolverOnChosenHeaders() {
    List<String> headers =
        List.of(
            "Bearer abc.def-ghi_jkl~mno+pqr/stu",
            "Bearer abc==",
            "bearer abc",
            "BEARER abc",
            "BeArEr abc",
            "Bearer a=b",
            "Bearer =",
            "Bearer ",
            "Bearer",
            "Bearer  abc",
            "Bearer\tabc",
            "Bearerabc",
            "Bearer abc ",
            "Bearer abc\n",
            "Bearer ab c",
            "Bearer abc,def",
            "Bearer é",
            "Basic dXNlcjpwYXNz",
            "",
            "bear",
            "Token abc",
            "Bearer " + "x".repeat(5000));
    for (String header : headers) {
      assertThat(answer(new BearerTokens(), header)).as(header).isEqualTo(defaultAnswer(header));
    }
    assertThat(answer(new BearerTokens(), null)).isEqualTo(defaultAnswer(null));
  }

  @Test
  void answersAsTheDefaultResolverOnRandomHeaders() {
    String[] prefixes = {
      "Bearer ", "bearer ", "BEARER ", "Bearer", "Bearer  ", "Basic ", "", "Bearerx ", "Bearer\t"
    };
    String alphabet = "aZ09-._~+/==== \t,;\"é\u0000ſ\u212a";
    Random random = new Random(42);
    List<String> mismatches = new ArrayList<>();
    for (int n = 0; n < 50_000; n++) {
      StringBuilder header = new StringBuilder(prefixes[random.nextInt(prefixes.length)]);
      for (int i = random.nextInt(8); i > 0; i--) {
        header.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String h = header.toString();
      if (!answer(new BearerTokens(), h).equals(defaultAnswer(h))) {
        mismatches.add(h);
      }
    }
    assertThat(mismatches).isEmpty();
  }

  private static String defaultAnswer(String header) {
    return answer(DEFAULT, header);
  }

  /** The token, "none", or the refusal's error code and description. */
  private static String answer(BearerTokenResolver resolver, String header) {
    MockHttpServletRequest request = new MockHttpServletRequest("GET", "/api/v1/revision");
    if (header != null) {
      request.addHeader("Authorization", header);
    }
    try {
      String token = resolver.resolve(request);
      return token == null ? "none" : "token " + token;
    } catch (OAuth2AuthenticationException e) {
      return "refused " + e.getError().getErrorCode() + " " + e.getError().getDescription();
    }
  }
}
