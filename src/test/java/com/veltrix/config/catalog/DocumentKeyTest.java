package com.veltrix.config.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The id rule's character loop against the rule as a whole-text regular expression. */
class DocumentKeyTest {

  /** {@link DocumentKey#ID_PATTERN} anchored to the text's very ends, as ECMA-262 reads it. */
  static final Pattern WHOLE_TEXT =
      Pattern.compile(
          "\\A" + DocumentKey.ID_PATTERN.substring(1, DocumentKey.ID_PATTERN.length() - 1) + "\\z");

  static boolean byRegex(String id) {
    return WHOLE_TEXT.matcher(id).matches();
  }

  @Test
  void everyCharacterFirstAndAfterTheFirstIsJudgedAsTheRuleSays() {
    int valid = 0;
    for (int code = 0; code <= Character.MAX_VALUE; code++) {
      char c = (char) code;
      for (String id : new String[] {c + "", c + "a", "a" + c, "a" + c + "b", "a" + c + c}) {
        assertThat(DocumentKey.isValidId(id))
            .as("U+%04X in \"%s\"", code, id)
            .isEqualTo(byRegex(id));
      }
      valid += DocumentKey.isValidId("a" + c) ? 1 : 0;
    }
    assertThat(valid).as("letters, digits, '.', '_' and '-'").isEqualTo(26 + 26 + 10 + 3);
  }

  @Test
  void lengthsUpTo128AndNothingAfterTheEnd() {
    for (int length = 0; length <= 130; length++) {
      String id = "a".repeat(length);
      assertThat(DocumentKey.isValidId(id))
          .as("length %d", length)
          .isEqualTo(length >= 1 && length <= 128);
      assertThat(DocumentKey.isValidId(id)).isEqualTo(byRegex(id));
    }
    for (String id :
        new String[] {"dt-1\n", "dt-1\r\n", "dt-1\u2028", "\ndt-1", "dt 1", "-dt", ".dt", "_dt"}) {
      assertThat(DocumentKey.isValidId(id)).as(id).isFalse();
    }
    assertThat(DocumentKey.isValidId(null)).isFalse();
  }
}
