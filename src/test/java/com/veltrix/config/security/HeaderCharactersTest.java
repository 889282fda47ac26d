package com.veltrix.config.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.web.firewall.RequestRejectedException;

/**
 * {@link HeaderCharacters} allows exactly what {@code StrictHttpFirewall}'s default expressions
 * allow (copied from spring-security-web 6.5.6's bytecode), on every code point alone and inside
 * longer strings.
 */
class HeaderCharactersTest {

  private static final Pattern NAMES = Pattern.compile("[\\p{IsAssigned}&&[^\\p{IsControl}]]*");
  private static final Pattern VALUES =
      Pattern.compile("[\\p{IsAssigned}&&[[^\\p{IsControl}]||\\t]]*");

  @Test
  void agreesWithTheDefaultExpressionsOnEveryCodePoint() {
    List<String> mismatches = new ArrayList<>();
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      String alone = new String(Character.toChars(cp));
      String inside = "ab" + alone + "cd";
      for (String s : List.of(alone, inside)) {
        if (HeaderCharacters.allowed(s, false) != NAMES.matcher(s).matches()
            || HeaderCharacters.allowed(s, true) != VALUES.matcher(s).matches()) {
          mismatches.add(Integer.toHexString(cp));
        }
      }
    }
    assertThat(mismatches).isEmpty();
  }

  @Test
  void agreesOnRandomStringsWithSurrogatesTabsAndControls() {
    char[] alphabet = {'a', ' ', '\t', '\n', '\u0000', '\u007f', '\u0085', 'é', '\ud83d', '\ude00'};
    Random random = new Random(7);
    for (int n = 0; n < 100_000; n++) {
      StringBuilder s = new StringBuilder();
      for (int i = random.nextInt(6); i > 0; i--) {
        s.append(alphabet[random.nextInt(alphabet.length)]);
      }
      String x = s.toString();
      assertThat(HeaderCharacters.allowed(x, false)).as(x).isEqualTo(NAMES.matcher(x).matches());
      assertThat(HeaderCharacters.allowed(x, true)).as(x).isEqualTo(VALUES.matcher(x).matches());
    }
  }

  @Test
  void theFirewallUsesThem() {
    var firewall = HeaderCharacters.firewall();
    var request = new MockHttpServletRequest("GET", "/api/v1/revision");
    request.addHeader("X-Ok", "a\tb");
    request.addHeader("X-Bad", "a\u0001b");
    var checked = firewall.getFirewalledRequest(request);
    assertThat(checked.getHeader("X-Ok")).isEqualTo("a\tb");
    assertThatThrownBy(() -> checked.getHeader("X-Bad"))
        .isInstanceOf(RequestRejectedException.class);
  }
}
