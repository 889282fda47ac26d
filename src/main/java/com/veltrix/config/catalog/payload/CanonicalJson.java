package com.veltrix.config.catalog.payload;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.catalog.Violation;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The canonical JSON text of a payload, whose SHA-256 is its content hash: RFC 8785 (JSON
 * Canonicalization Scheme), so that any consumer with a JCS library recomputes the hash from the
 * payload it received. Object members sorted by their UTF-16 code units, no insignificant white
 * space, strings with only the escapes JSON requires (<code>&#92;u001f</code> lower-case), numbers
 * as IEEE 754 doubles written as ECMAScript writes them ({@link EcmaNumbers}: {@code 1e+21}, {@code
 * 1e-7}). While writing it checks what canonical JSON, the database or the limits forbid: a number
 * that a double cannot carry exactly as written (it would change: {@code 9007199254740993}) or at
 * all ({@code 1e400}), nesting deeper than the limit, NUL characters and unpaired surrogates.
 */
public final class CanonicalJson {

  private final int maxDepth;
  private final StringBuilder out = new StringBuilder(256);
  private final List<Violation> violations = new ArrayList<>();

  private CanonicalJson(int maxDepth) {
    this.maxDepth = maxDepth;
  }

  /** Canonical text of {@code node}, or the violations (pointers relative to the payload). */
  static Result write(JsonNode node, int maxDepth) {
    CanonicalJson writer = new CanonicalJson(maxDepth);
    writer.value(node, Pointer.ROOT, 1);
    return new Result(writer.out.toString(), List.copyOf(writer.violations));
  }

  record Result(String text, List<Violation> violations) {}

  private static final ObjectMapper STORED =
      new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  /**
   * The RFC 8785 text of JSON stored under an earlier canonical form (the migration that moved
   * stored payloads to this one). Stored payloads were validated when written, so nothing is
   * refused here; a number a double cannot carry exactly (the earlier form kept it) becomes the
   * nearest double, as every JCS consumer reads it anyway.
   */
  public static String recanonicalize(String storedJson) {
    try {
      return write(STORED.readTree(storedJson), Integer.MAX_VALUE).text();
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("stored payload is not JSON", e);
    }
  }

  public static String sha256(String text) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  static String escapePointerToken(String token) {
    return token.replace("~", "~0").replace("/", "~1");
  }

  /**
   * Where a value is (RFC 6901), spelled out only when a violation names it, instead of building
   * every member's pointer text while writing a valid payload.
   */
  private record Pointer(Pointer parent, String member, int index) {
    static final Pointer ROOT = new Pointer(null, null, -1);

    Pointer member(String name) {
      return new Pointer(this, name, -1);
    }

    Pointer element(int i) {
      return new Pointer(this, null, i);
    }

    @Override
    public String toString() {
      if (parent == null) {
        return "";
      }
      return parent + "/" + (member == null ? String.valueOf(index) : escapePointerToken(member));
    }
  }

  /** Integers a double carries exactly; ECMAScript writes them as plain digits. */
  private static final long EXACT_INTEGER = 1L << 53;

  private void value(JsonNode node, Pointer pointer, int depth) {
    if (node.isContainerNode() && depth > maxDepth) {
      violations.add(
          Violation.at(pointer.toString(), "nested deeper than " + maxDepth + " levels"));
      out.append("null");
      return;
    }
    switch (node.getNodeType()) {
      case OBJECT -> {
        @SuppressWarnings("unchecked")
        Map.Entry<String, JsonNode>[] members = node.properties().toArray(new Map.Entry[0]);
        Arrays.sort(members, Map.Entry.comparingByKey()); // String order: UTF-16 code units
        out.append('{');
        for (int i = 0; i < members.length; i++) {
          Pointer child = pointer.member(members[i].getKey());
          out.append(i == 0 ? "" : ",");
          string(members[i].getKey(), child, "member name");
          out.append(':');
          value(members[i].getValue(), child, depth + 1);
        }
        out.append('}');
      }
      case ARRAY -> {
        out.append('[');
        for (int i = 0; i < node.size(); i++) {
          out.append(i == 0 ? "" : ",");
          value(node.get(i), pointer.element(i), depth + 1);
        }
        out.append(']');
      }
      case STRING -> string(node.textValue(), pointer, "string");
      case NUMBER -> {
        // a range check, not Math.abs: |Long.MIN_VALUE| overflows to a negative number
        if (node.canConvertToExactIntegral()
            && node.canConvertToLong()
            && node.longValue() >= -EXACT_INTEGER
            && node.longValue() <= EXACT_INTEGER) {
          out.append(node.longValue());
        } else {
          number(node.decimalValue(), pointer);
        }
      }
      case BOOLEAN -> out.append(node.booleanValue());
      case NULL -> out.append("null");
      default -> {
        violations.add(Violation.at(pointer.toString(), "not a JSON value"));
        out.append("null");
      }
    }
  }

  /**
   * RFC 8785 3.2.2.2: the two-character escapes where JSON has them, else <code>&#92;u00xx</code>;
   * what needs no escape is copied a run at a time. A NUL or an unpaired surrogate is a violation
   * at {@code pointer} (the first one only).
   */
  private void string(String text, Pointer pointer, String what) {
    out.append('"');
    boolean refused = false;
    int run = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\' && !Character.isSurrogate(c)) {
        continue;
      }
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < text.length()
            && Character.isLowSurrogate(text.charAt(i + 1))) {
          i++; // a pair: copied with the run
        } else if (!refused) {
          violations.add(
              Violation.at(pointer.toString(), what + " contains an unpaired UTF-16 surrogate"));
          refused = true;
        }
        continue;
      }
      out.append(text, run, i);
      run = i + 1;
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\f' -> out.append("\\f");
        case '\r' -> out.append("\\r");
        default -> {
          if (c == 0 && !refused) {
            violations.add(
                Violation.at(pointer.toString(), what + " contains a NUL character (\\u0000)"));
            refused = true;
          }
          out.append("\\u00").append(Character.forDigit(c >> 4, 16));
          out.append(Character.forDigit(c & 0xf, 16));
        }
      }
    }
    out.append(text, run, text.length());
    out.append('"');
  }

  /** The number as the double RFC 8785 keeps, refused if that double is not what was written. */
  private void number(BigDecimal written, Pointer pointer) {
    String canonical = EcmaNumbers.canonical(written);
    if (canonical == null) {
      violations.add(
          Violation.at(
              pointer.toString(), "is outside the range of an IEEE 754 double (canonical JSON)"));
      out.append("null");
      return;
    }
    if (new BigDecimal(canonical).compareTo(written) != 0) {
      violations.add(
          Violation.at(
              pointer.toString(),
              "has more precision than an IEEE 754 double keeps (canonical JSON would store "
                  + canonical
                  + ")"));
    }
    out.append(canonical);
  }
}
