package com.veltrix.config.catalog.payload;

import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.Violation;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.springframework.scheduling.support.CronExpression;

/**
 * The payload rules a JSON Schema does not express well, checked after the schema passed (so the
 * shapes are known): payload id, finite positions, quantities, unique item ids, interval xor cron,
 * a valid cron expression and a time window that is not empty. Also extracts the references.
 */
final class PayloadRules {

  private PayloadRules() {}

  static List<Violation> check(DocumentKey key, JsonNode payload) {
    List<Violation> violations = new ArrayList<>();
    JsonNode id = payload.get("id");
    if (id != null && !key.id().equals(id.textValue())) {
      violations.add(Violation.at("/id", "must equal the document id '" + key.id() + "'"));
    }
    switch (key.kind()) {
      case TREASURE_LOCATION -> treasureLocation(payload, violations);
      case DROP_TABLE -> dropTable(payload, violations);
      case SPAWN_RULE -> spawnRule(payload, violations);
    }
    return violations;
  }

  static Set<DocumentKey> references(Kind kind, JsonNode payload) {
    Set<DocumentKey> refs = new LinkedHashSet<>();
    switch (kind) {
      case TREASURE_LOCATION ->
          refs.add(new DocumentKey(Kind.DROP_TABLE, payload.get("dropTableId").textValue()));
      case SPAWN_RULE -> {
        refs.add(new DocumentKey(Kind.DROP_TABLE, payload.get("dropTableId").textValue()));
        for (JsonNode location : payload.get("locationIds")) {
          refs.add(new DocumentKey(Kind.TREASURE_LOCATION, location.textValue()));
        }
      }
      case DROP_TABLE -> {}
    }
    return refs;
  }

  private static void treasureLocation(JsonNode payload, List<Violation> violations) {
    for (String axis : List.of("x", "y", "z")) {
      if (!Double.isFinite(payload.get("position").get(axis).doubleValue())) {
        violations.add(Violation.at("/position/" + axis, "must be a finite number"));
      }
    }
    if (!Double.isFinite(payload.get("radius").doubleValue())) {
      violations.add(Violation.at("/radius", "must be a finite number"));
    }
  }

  private static void dropTable(JsonNode payload, List<Violation> violations) {
    Set<String> itemIds = new HashSet<>();
    JsonNode entries = payload.get("entries");
    for (int i = 0; i < entries.size(); i++) {
      JsonNode entry = entries.get(i);
      String at = "/entries/" + i;
      if (!itemIds.add(entry.get("itemId").textValue())) {
        violations.add(
            Violation.at(
                at + "/itemId", "duplicate itemId '" + entry.get("itemId").textValue() + "'"));
      }
      if (!Double.isFinite(entry.get("weight").doubleValue())) {
        violations.add(Violation.at(at + "/weight", "must be a finite number"));
      }
      if (entry.get("maxQuantity").longValue() < entry.get("minQuantity").longValue()) {
        violations.add(
            Violation.at(at + "/maxQuantity", "must be greater than or equal to minQuantity"));
      }
    }
  }

  private static void spawnRule(JsonNode payload, List<Violation> violations) {
    boolean interval = payload.has("intervalSeconds");
    JsonNode cron = payload.get("cron");
    if (interval == (cron != null)) {
      violations.add(
          Violation.at(
              interval ? "/cron" : "",
              interval
                  ? "give either intervalSeconds or cron, not both"
                  : "one of intervalSeconds or cron is required"));
    }
    if (cron != null && !validCron(cron.textValue())) {
      violations.add(
          Violation.at(
              "/cron",
              "is not a valid cron expression (5 fields: minute hour day-of-month month"
                  + " day-of-week, or a macro such as @hourly)"));
    }
    OffsetDateTime from = instant(payload, "activeFrom", violations);
    OffsetDateTime until = instant(payload, "activeUntil", violations);
    if (from != null && until != null && !from.isBefore(until)) {
      violations.add(Violation.at("/activeUntil", "must be later than activeFrom"));
    }
  }

  private static boolean validCron(String expression) {
    String trimmed = expression.trim();
    String sixFields =
        trimmed.startsWith("@") ? trimmed : "0 " + trimmed; // Spring's syntax leads with seconds
    if (!trimmed.startsWith("@") && trimmed.split("\\s+").length != 5) {
      return false;
    }
    try {
      CronExpression.parse(sixFields);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static OffsetDateTime instant(
      JsonNode payload, String field, List<Violation> violations) {
    JsonNode value = payload.get(field);
    if (value == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(value.textValue(), DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    } catch (DateTimeParseException e) {
      violations.add(
          Violation.at(
              "/" + field, "must be an RFC 3339 date-time with offset, e.g. 2026-12-01T18:00:00Z"));
      return null;
    }
  }
}
