package com.veltrix.config.rest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.support.FreePort;
import com.veltrix.config.support.Http;
import com.veltrix.config.support.TestDatabase;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The published OpenAPI document, read as a client generator and the Swagger UI read it. */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"management.server.port=0"})
class OpenApiContractTest {

  @LocalServerPort int port;

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.register(registry);
    FreePort.register(registry, "grpc.server.port");
  }

  JsonNode document() {
    Http.Response r = Http.anonymous(port).get("/v3/api-docs");
    assertThat(r.status()).isEqualTo(200);
    return r.json();
  }

  @Test
  void parsesWithoutAProblemAsOpenApi31() {
    String text = Http.anonymous(port).get("/v3/api-docs").body();

    SwaggerParseResult result = new OpenAPIV3Parser().readContents(text);

    assertThat(result.getMessages()).isEmpty();
    assertThat(result.getOpenAPI().getOpenapi()).startsWith("3.1");
  }

  @Test
  void namesTheServiceItsVersionTagsAndTheBearerScheme() {
    JsonNode api = document();

    assertThat(api.at("/info/title").asText()).isEqualTo("veltrix-config");
    assertThat(api.at("/info/version").asText()).isNotBlank().isNotEqualTo("v0");
    assertThat(api.at("/components/securitySchemes/bearer/type").asText()).isEqualTo("http");
    assertThat(api.at("/components/securitySchemes/bearer/scheme").asText()).isEqualTo("bearer");
    assertThat(api.at("/security/0").has("bearer")).isTrue();
    List<String> tags = new ArrayList<>();
    api.get("tags").forEach(t -> tags.add(t.get("name").asText()));
    assertThat(tags).containsExactlyInAnyOrder("documents", "catalog", "schedules");
  }

  @Test
  void payloadsAreTheThreeJsonSchemasNotAString() {
    JsonNode schemas = document().at("/components/schemas");

    assertThat(schemas.at("/DropTablePayload/required").toString()).contains("rolls", "entries");
    assertThat(schemas.at("/TreasureLocationPayload/properties/position/type").asText())
        .isEqualTo("object");
    assertThat(schemas.at("/SpawnRulePayload/additionalProperties").asBoolean(true)).isFalse();
    for (String body : List.of("DocumentBody", "BatchWrite")) {
      JsonNode payload = schemas.at("/" + body + "/properties/payload");
      assertThat(payload.path("type").asText()).as(body).isNotEqualTo("string");
      assertThat(payload.get("oneOf")).as(body).hasSize(3);
    }
    JsonNode put = document().at("/paths/~1api~1v1~1{kind}~1{id}/put/requestBody/content");
    assertThat(put.at("/application~1json/schema/oneOf")).hasSize(3);
  }

  @Test
  void everyOperationDescribesItsErrorsAsProblemDetails() {
    JsonNode paths = document().get("paths");
    List<String> missing = new ArrayList<>();
    int operations = 0;
    for (var path : (Iterable<java.util.Map.Entry<String, JsonNode>>) paths::fields) {
      for (var operation :
          (Iterable<java.util.Map.Entry<String, JsonNode>>) path.getValue()::fields) {
        operations++;
        JsonNode responses = operation.getValue().get("responses");
        for (String status : List.of("400", "401", "403", "429", "503")) {
          String schema =
              responses
                  .at("/" + status + "/content/application~1problem+json/schema/$ref")
                  .asText();
          if (!schema.endsWith("/Problem")) {
            missing.add(operation.getKey() + " " + path.getKey() + " " + status);
          }
        }
      }
    }
    assertThat(operations).isGreaterThanOrEqualTo(9);
    assertThat(missing).isEmpty();
    assertThat(paths.has("/error")).as("the error page is not an operation of the API").isFalse();
    JsonNode put = paths.at("/~1api~1v1~1{kind}~1{id}/put/responses");
    assertThat(put.has("409") && put.has("412") && put.has("413") && put.has("415")).isTrue();
    assertThat(put.has("408")).isTrue(); // a body that stopped arriving
    assertThat(put.has("422")).isTrue(); // an Idempotency-Key used with another request
    assertThat(paths.at("/~1api~1v1~1batches/post/responses").has("422")).isTrue();
    assertThat(paths.at("/~1api~1v1~1schedules/post/responses").has("422")).isTrue();
  }
}
