package com.veltrix.config.catalog.schedule;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.write.Precondition;
import com.veltrix.config.catalog.write.WriteCommand;
import java.util.ArrayList;
import java.util.List;

/**
 * A schedule's writes as stored: the JSON array {@code POST /batches} takes ({@code op}, {@code
 * kind}, {@code id}, {@code payload}, {@code ifMatch}), so the stored form reads like the request.
 */
public final class ScheduledWrites {

  private static final ObjectMapper JSON = new ObjectMapper();

  private ScheduledWrites() {}

  public static String toJson(List<WriteCommand> writes) {
    ArrayNode array = JSON.createArrayNode();
    for (WriteCommand write : writes) {
      ObjectNode node = array.addObject();
      node.put("op", write instanceof WriteCommand.Retire ? "retire" : "upsert");
      node.put("kind", write.key().kind().name());
      node.put("id", write.key().id());
      if (write instanceof WriteCommand.Upsert upsert) {
        node.set("payload", upsert.payload());
      } else if (!(write instanceof WriteCommand.Retire)) {
        throw new IllegalArgumentException("a schedule holds upserts and retires only: " + write);
      }
      write.precondition().ifMatch().ifPresent(v -> node.put("ifMatch", v));
    }
    return array.toString();
  }

  public static List<WriteCommand> fromJson(String json) {
    try {
      List<WriteCommand> writes = new ArrayList<>();
      for (JsonNode node : JSON.readTree(json)) {
        DocumentKey key =
            new DocumentKey(Kind.valueOf(node.get("kind").asText()), node.get("id").asText());
        Precondition precondition =
            node.has("ifMatch")
                ? Precondition.ifMatch(node.get("ifMatch").asLong())
                : Precondition.NONE;
        writes.add(
            "retire".equals(node.get("op").asText())
                ? new WriteCommand.Retire(key, precondition)
                : new WriteCommand.Upsert(key, node.get("payload"), precondition));
      }
      return List.copyOf(writes);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a stored schedule's writes are not JSON", e);
    }
  }
}
