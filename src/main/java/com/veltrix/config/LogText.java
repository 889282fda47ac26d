package com.veltrix.config;

/**
 * Makes text that came from a caller safe to put in a log line: control characters (CR and LF above
 * all, which would forge log lines) and other non-printable characters become {@code \\uXXXX}
 * escapes, backslashes are doubled, and the result is cut at {@link #MAX_LENGTH} characters.
 */
public final class LogText {

  public static final int MAX_LENGTH = 512;

  private LogText() {}

  public static String escape(String text) {
    if (text == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_LENGTH) + 16);
    for (int i = 0; i < text.length(); i++) {
      if (out.length() >= MAX_LENGTH) {
        return out.append("...(").append(text.length()).append(" chars)").toString();
      }
      char c = text.charAt(i);
      if (c == '\\') {
        out.append("\\\\");
      } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
