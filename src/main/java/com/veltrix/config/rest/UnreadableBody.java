package com.veltrix.config.rest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.veltrix.config.catalog.Violation;
import com.veltrix.config.catalog.payload.JsonSyntax;
import java.io.IOException;
import java.util.Collection;
import org.springframework.http.converter.HttpMessageNotReadableException;

/**
 * What is wrong with a request body that did not read as its request type, and where, in JSON's
 * words: a field of the wrong type says what it must be and what it was ({@code /toVersion: must be
 * a whole number that fits in 64 bits, was 1.5}), never the Java type it was bound to.
 */
final class UnreadableBody {

  /** The longest piece of a wrong string value repeated in the answer. */
  private static final int QUOTED = 40;

  private UnreadableBody() {}

  static Violation violation(HttpMessageNotReadableException e) {
    Throwable cause = e.getCause();
    if (cause instanceof UnrecognizedPropertyException unknown) {
      return Violation.at(pointer(unknown), "is not a known field");
    }
    if (cause instanceof MismatchedInputException mismatch && !trailing(mismatch)) {
      return Violation.at(pointer(mismatch), wrongType(mismatch.getTargetType(), mismatch));
    }
    if (cause instanceof JsonMappingException mapping
        && mapping.getCause() instanceof InputCoercionException coercion) {
      return Violation.at(pointer(mapping), wrongType(coercion.getTargetType(), mapping));
    }
    if (cause instanceof StreamConstraintsException constraint) {
      return Violation.at("", JsonSyntax.describe(constraint));
    }
    if (cause instanceof JsonProcessingException json) {
      String where = "";
      if (json.getProcessor() instanceof JsonParser parser) {
        where = parser.getParsingContext().pathAsPointer().toString();
      }
      return Violation.at(where, JsonSyntax.describe(json));
    }
    return Violation.at("", "must be a JSON object; the body is empty");
  }

  /** Jackson reports a second value after the body's as a mismatch too; it is a syntax error. */
  private static boolean trailing(MismatchedInputException e) {
    return e.getOriginalMessage().startsWith("Trailing token");
  }

  private static String wrongType(Class<?> target, JsonProcessingException e) {
    String was = e.getProcessor() instanceof JsonParser parser ? found(parser) : null;
    return "must be " + expected(target) + (was == null ? "" : ", was " + was);
  }

  /** The request bodies' field types (Bodies, ScheduleBodies): Long, String, lists, records. */
  private static String expected(Class<?> target) {
    if (target == null) {
      return "of another type";
    }
    if (target == Long.class || target == long.class) {
      return "a whole number that fits in 64 bits";
    }
    if (target == String.class) {
      return "a string";
    }
    if (target.isArray() || Collection.class.isAssignableFrom(target)) {
      return "an array";
    }
    return "an object";
  }

  /** The value the parser stopped at, as JSON calls it. */
  private static String found(JsonParser parser) {
    JsonToken token = parser.currentToken();
    if (token == null) {
      return null;
    }
    try {
      return switch (token) {
        case START_ARRAY -> "an array";
        case START_OBJECT, FIELD_NAME -> "an object";
        case VALUE_STRING -> quoted(parser.getText());
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE, VALUE_NULL ->
            parser.getText();
        default -> null;
      };
    } catch (IOException notReadable) {
      return null;
    }
  }

  private static String quoted(String text) {
    return text.length() <= QUOTED
        ? "\"" + text + "\""
        : "\"" + text.substring(0, QUOTED) + "\"... (" + text.length() + " characters)";
  }

  private static String pointer(JsonMappingException e) {
    StringBuilder pointer = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      pointer.append('/');
      if (ref.getFieldName() != null) {
        pointer.append(ref.getFieldName().replace("~", "~0").replace("/", "~1"));
      } else if (ref.getIndex() >= 0) {
        pointer.append(ref.getIndex());
      }
    }
    return pointer.toString();
  }
}
