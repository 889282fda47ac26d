package com.veltrix.config.catalog.payload;

import com.networknt.schema.regex.RegularExpression;
import com.networknt.schema.regex.RegularExpressionFactory;
import com.veltrix.config.catalog.DocumentKey;

/**
 * The schemas' {@code pattern} keywords, with the meaning JSON Schema gives them (ECMA-262). The
 * validator's default, {@code java.util.regex} searched with {@code find()}, reads the id rule's
 * {@code $} as "at the end or before a final line break": it let {@code "dt-1\n"} through as a
 * reference, which the write then failed on (a 500 where the caller deserved a 400), and stored
 * zones and item ids no query could name. The schemas use one pattern, the id rule, checked by the
 * code every other id goes through; a schema that brings another fails the service's start instead
 * of being read with the wrong meaning.
 */
final class SchemaPatterns implements RegularExpressionFactory {

  @Override
  public RegularExpression getRegularExpression(String regex) {
    if (DocumentKey.ID_PATTERN.equals(regex)) {
      return DocumentKey::isValidId;
    }
    throw new IllegalStateException(
        "schema pattern "
            + regex
            + ": only the id rule "
            + DocumentKey.ID_PATTERN
            + " has a checker (SchemaPatterns); give a new pattern one with ECMA-262's meaning");
  }
}
