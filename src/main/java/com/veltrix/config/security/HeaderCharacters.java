package com.veltrix.config.security;

import org.springframework.security.web.firewall.StrictHttpFirewall;

/**
 * The characters {@link StrictHttpFirewall} allows in header names, header values and parameter
 * names by default, checked by a loop instead of its regular expressions ({@code
 * [\p{IsAssigned}&&[^\p{IsControl}]]*}; values also allow a tab). The firewall runs its check on
 * every header the application reads, and the expressions were 3.3 % of a single write's CPU
 * (docs/performance.md). {@code HeaderCharactersTest} compares both on every code point.
 */
final class HeaderCharacters {

  private HeaderCharacters() {}

  /** The firewall with the default rules, checked by {@link #allowed}. */
  static StrictHttpFirewall firewall() {
    StrictHttpFirewall firewall = new StrictHttpFirewall();
    firewall.setAllowedHeaderNames(s -> allowed(s, false));
    firewall.setAllowedHeaderValues(s -> allowed(s, true));
    firewall.setAllowedParameterNames(s -> allowed(s, false));
    return firewall;
  }

  /** Every code point assigned and not a control character (a tab allowed if {@code tab}). */
  static boolean allowed(String s, boolean tab) {
    for (int i = 0; i < s.length(); ) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x7f) { // printable ASCII: the common case, allowed
        i++;
        continue;
      }
      int cp = s.codePointAt(i);
      int type = Character.getType(cp);
      if (type == Character.UNASSIGNED || (type == Character.CONTROL && !(tab && cp == '\t'))) {
        return false;
      }
      i += Character.charCount(cp);
    }
    return true;
  }
}
