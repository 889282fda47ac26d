package com.veltrix.config.catalog.payload;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.catalog.Violation;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The canonical JSON text of a payload, whose SHA-256 is its content hash: object members sorted by
 * name, no insignificant white space, numbers in one normal form ({@code 1.0}, {@code 1} and {@code
 * 1e0} are all {@code 1}). While writing it checks what the database cannot store or the limits
 * forbid: nesting deeper than the limit, NUL characters and unpaired surrogates.
 */
public final class CanonicalJson {

  private static final JsonFactory FACTORY = new JsonFactory();
  private static final BigDecimal PLAIN_LIMIT = new BigDecimal("1e21");

  private final int maxDepth;
  private final List<Violation> violations = new ArrayList<>();

  private CanonicalJson(int maxDepth) {
    this.maxDepth = maxDepth;
  }

  /** Canonical text of {@code node}, or the violations (pointers relative to the payload). */
  static Result write(JsonNode node, int maxDepth) {
    CanonicalJson writer = new CanonicalJson(maxDepth);
    StringWriter out = new StringWriter();
    try (JsonGenerator gen = FACTORY.createGenerator(out)) {
      writer.value(gen, node, "", 1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Result(out.toString(), List.copyOf(writer.violations));
  }

  record Result(String text, List<Violation> violations) {}

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

  private void value(JsonGenerator gen, JsonNode node, String pointer, int depth)
      throws IOException {
    if (node.isContainerNode() && depth > maxDepth) {
      violations.add(Violation.at(pointer, "nested deeper than " + maxDepth + " levels"));
      gen.writeNull();
      return;
    }
    switch (node.getNodeType()) {
      case OBJECT -> {
        Map<String, JsonNode> sorted = new TreeMap<>();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
          sorted.put(field.getKey(), field.getValue());
        }
        gen.writeStartObject();
        for (Map.Entry<String, JsonNode> field : sorted.entrySet()) {
          String child = pointer + "/" + escapePointerToken(field.getKey());
          checkText(field.getKey(), child, "member name");
          gen.writeFieldName(field.getKey());
          value(gen, field.getValue(), child, depth + 1);
        }
        gen.writeEndObject();
      }
      case ARRAY -> {
        gen.writeStartArray();
        for (int i = 0; i < node.size(); i++) {
          value(gen, node.get(i), pointer + "/" + i, depth + 1);
        }
        gen.writeEndArray();
      }
      case STRING -> {
        checkText(node.textValue(), pointer, "string");
        gen.writeString(node.textValue());
      }
      case NUMBER -> gen.writeRawValue(number(node.decimalValue()));
      case BOOLEAN -> gen.writeBoolean(node.booleanValue());
      case NULL -> gen.writeNull();
      default -> {
        violations.add(Violation.at(pointer, "not a JSON value"));
        gen.writeNull();
      }
    }
  }

  private void checkText(String text, String pointer, String what) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == 0) {
        violations.add(Violation.at(pointer, what + " contains a NUL character (\\u0000)"));
        return;
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        violations.add(Violation.at(pointer, what + " contains an unpaired UTF-16 surrogate"));
        return;
      }
    }
  }

  /** Integral values without a fraction; others in plain decimal unless the exponent is extreme. */
  static String number(BigDecimal value) {
    BigDecimal n = value.signum() == 0 ? BigDecimal.ZERO : value.stripTrailingZeros();
    if (n.scale() <= 0 && n.abs().compareTo(PLAIN_LIMIT) < 0) {
      return n.toPlainString();
    }
    if (n.scale() > 0 && n.scale() <= 21 && n.abs().compareTo(PLAIN_LIMIT) < 0) {
      return n.toPlainString();
    }
    return n.toString();
  }
}
