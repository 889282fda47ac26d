package com.veltrix.config.support;

/** Valid payloads of each kind, as JSON text, for tests to start from. */
public final class Payloads {

  private Payloads() {}

  public static String dropTable(String itemId, int weight) {
    return """
        {"rolls": 2, "entries": [
          {"itemId": "%s", "weight": %d, "minQuantity": 1, "maxQuantity": 3}
        ]}"""
        .formatted(itemId, weight);
  }

  /** A drop table of 600 entries: about 45 KB, near the 64 KiB a payload may have. */
  public static String largeDropTable() {
    StringBuilder entries = new StringBuilder();
    for (int j = 0; j < 600; j++) {
      entries.append(j == 0 ? "" : ",").append(dropTableEntry("item-%04d".formatted(j), j + 1));
    }
    return "{\"rolls\": 2, \"entries\": [" + entries + "]}";
  }

  private static String dropTableEntry(String itemId, int weight) {
    return "{\"itemId\": \"%s\", \"weight\": %d, \"minQuantity\": 1, \"maxQuantity\": 3}"
        .formatted(itemId, weight);
  }

  public static String treasureLocation(String zone, String dropTableId) {
    return """
        {"zone": "%s", "position": {"x": 1.5, "y": -2, "z": 0}, "radius": 4.25,
         "dropTableId": "%s", "respawnSeconds": 300, "tags": ["cave", "night"]}"""
        .formatted(zone, dropTableId);
  }

  public static String spawnRule(String zone, String locationId, String dropTableId) {
    return """
        {"zone": "%s", "locationIds": ["%s"], "dropTableId": "%s", "maxActive": 3,
         "intervalSeconds": 60}"""
        .formatted(zone, locationId, dropTableId);
  }
}
