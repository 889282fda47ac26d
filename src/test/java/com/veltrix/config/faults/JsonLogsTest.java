package com.veltrix.config.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.support.TestDatabase;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One setting turns the logs into JSON, one document a line, with the request id a field of every
 * line a call writes. A process of its own: logging is set up once per JVM.
 */
class JsonLogsTest {

  @Test
  void oneSettingTurnsTheLogsIntoJsonWithTheRequestIdInEveryLineOfACall() throws Exception {
    try (ServiceProcess service =
        new ServiceProcess(
            "json-logs",
            TestDatabase.jdbcUrl(),
            "0s",
            Map.of("logging.structured.format.console", "ecs"))) {
      ProductionFaultsTest.awaitReadiness(service, "UP", 90_000);

      int status =
          service.rest.get("/api/v1/drop-tables/not-there", "X-Request-Id", "json-log-1").status();
      service.close();

      assertThat(status).isEqualTo(404);
      ObjectMapper mapper = new ObjectMapper();
      List<JsonNode> call = new ArrayList<>();
      for (String line : Files.readAllLines(service.log)) {
        JsonNode json = mapper.readTree(line); // every line is one JSON document
        if (line.contains("json-log-1")) {
          call.add(json);
        }
      }
      assertThat(call).isNotEmpty();
      assertThat(call)
          .allSatisfy(l -> assertThat(l.get("requestId").asText()).isEqualTo("json-log-1"));
      assertThat(call).anySatisfy(l -> assertThat(l.get("message").asText()).startsWith("404"));
    }
  }
}
