package com.veltrix.config.catalog.payload;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.veltrix.config.catalog.CatalogLimits;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.PayloadTooLargeException;
import com.veltrix.config.catalog.Violation;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * Validates a payload against its kind: canonical form (depth, NUL, surrogates), size, the JSON
 * Schema in {@code classpath:schemas/<kind>.schema.json}, then the rules a schema cannot say well
 * ({@link PayloadRules}). Every error carries the JSON pointer of the offending value.
 */
@Component
public class PayloadValidator {

  private final CatalogLimits limits;
  private final Map<Kind, JsonSchema> schemas = new EnumMap<>(Kind.class);

  public PayloadValidator(CatalogLimits limits) {
    this.limits = limits;
    JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    SchemaValidatorsConfig config =
        SchemaValidatorsConfig.builder()
            .pathType(PathType.JSON_POINTER)
            .regularExpressionFactory(new SchemaPatterns())
            .build();
    for (Kind kind : Kind.values()) {
      String resource = "/schemas/" + kind.schemaName() + ".schema.json";
      try (InputStream in = PayloadValidator.class.getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException("missing schema " + resource);
        }
        schemas.put(kind, factory.getSchema(in, config));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * The validated payload, or an {@link InvalidInputException} (pointers relative to the payload)
   * or a {@link PayloadTooLargeException}.
   */
  public ValidatedPayload validate(DocumentKey key, JsonNode payload) {
    CanonicalJson.Result canonical = CanonicalJson.write(payload, limits.maxDepth());
    if (!canonical.violations().isEmpty()) {
      throw new InvalidInputException(canonical.violations());
    }
    long size = canonical.text().getBytes(StandardCharsets.UTF_8).length;
    if (size > limits.maxPayloadSize().toBytes()) {
      throw new PayloadTooLargeException(
          "payload of "
              + key
              + " is "
              + size
              + " bytes (canonical JSON); the limit is "
              + limits.maxPayloadSize().toBytes());
    }
    if (!payload.isObject()) {
      throw new InvalidInputException(List.of(Violation.at("", "payload must be a JSON object")));
    }
    List<Violation> violations = schemaViolations(key.kind(), payload);
    if (violations.isEmpty()) {
      violations = PayloadRules.check(key, payload);
    }
    if (!violations.isEmpty()) {
      throw new InvalidInputException(violations);
    }
    return new ValidatedPayload(
        canonical.text(),
        CanonicalJson.sha256(canonical.text()),
        size,
        Optional.ofNullable(payload.get("zone")).map(JsonNode::textValue),
        PayloadRules.references(key.kind(), payload));
  }

  private List<Violation> schemaViolations(Kind kind, JsonNode payload) {
    List<Violation> violations = new ArrayList<>();
    for (ValidationMessage message : schemas.get(kind).validate(payload)) {
      String pointer = message.getInstanceLocation().toString();
      String type = message.getType();
      if (("required".equals(type) || "additionalProperties".equals(type))
          && message.getProperty() != null) {
        pointer = pointer + "/" + CanonicalJson.escapePointerToken(message.getProperty());
      }
      String text =
          switch (type) {
            case "required" -> "is required";
            case "additionalProperties" -> "is not a known field";
            case "pattern" -> DocumentKey.ID_RULE;
            default -> message.getError();
          };
      violations.add(Violation.at(pointer, text));
    }
    violations.sort(Comparator.comparing(Violation::pointer));
    return violations;
  }
}
