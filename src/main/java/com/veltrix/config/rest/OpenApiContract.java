package com.veltrix.config.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.swagger.v3.core.util.Json31;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.parameters.RequestBody;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.info.BuildProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The published OpenAPI document ({@code /v3/api-docs}) as a client generator needs it: a title and
 * the build's version, the bearer scheme (so the UI's "Authorize" works), the three payload JSON
 * Schemas of {@code src/main/resources/schemas} as the types of {@code payload}, and every error an
 * operation can answer, as RFC 9457 problem details.
 */
@Configuration(proxyBeanMethods = false)
class OpenApiContract {

  static final String BEARER = "bearer";
  static final String PROBLEM = "Problem";
  static final Map<String, String> PAYLOADS =
      Map.of(
          "TreasureLocationPayload", "schemas/treasure-location.schema.json",
          "DropTablePayload", "schemas/drop-table.schema.json",
          "SpawnRulePayload", "schemas/spawn-rule.schema.json");
  static final String DOCUMENT_ID = "DocumentId";

  @Bean
  OpenAPI veltrixOpenApi(ObjectProvider<BuildProperties> build) {
    BuildProperties properties = build.getIfAvailable();
    return new OpenAPI()
        .info(
            new Info()
                .title("veltrix-config")
                .version(properties == null ? "development" : properties.getVersion())
                .description(
                    "The authoritative store of a game's treasure-hunt configuration: treasure"
                        + " locations, drop tables and spawn rules as versioned JSON documents"
                        + " with one global revision. Every call needs a bearer token (JWT) with"
                        + " the scope it names: configs:read, configs:write or configs:admin."))
        .components(new Components().addSecuritySchemes(BEARER, bearerScheme()))
        .addSecurityItem(new SecurityRequirement().addList(BEARER));
  }

  @Bean
  OpenApiCustomizer payloadsAndProblems(ObjectMapper json) {
    return openApi -> {
      Components components = openApi.getComponents();
      PAYLOADS.forEach((name, file) -> components.addSchemas(name, payloadSchema(json, file)));
      components.addSchemas(
          DOCUMENT_ID, new StringSchema().pattern("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"));
      components.addSchemas(PROBLEM, problemSchema());
      replacePayload(components.getSchemas().get("DocumentBody"));
      replacePayload(components.getSchemas().get("BatchWrite"));
      openApi.getPaths().forEach(OpenApiContract::describe);
    };
  }

  private static SecurityScheme bearerScheme() {
    return new SecurityScheme()
        .type(SecurityScheme.Type.HTTP)
        .scheme("bearer")
        .bearerFormat("JWT")
        .description("A JWT from the configured issuer; scopes configs:read, write, admin.");
  }

  /** A payload schema, its shared {@code $defs/id} moved to {@value #DOCUMENT_ID}. */
  static Schema<?> payloadSchema(ObjectMapper json, String file) {
    try (InputStream in = OpenApiContract.class.getClassLoader().getResourceAsStream(file)) {
      if (in == null) {
        throw new IllegalStateException("no " + file + " on the classpath");
      }
      ObjectNode tree = (ObjectNode) json.readTree(in);
      tree.remove("$schema");
      tree.remove("$defs");
      String text = json.writeValueAsString(tree).replace("#/$defs/id", ref(DOCUMENT_ID));
      return Json31.mapper().readValue(text, Schema.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String ref(String schema) {
    return "#/components/schemas/" + schema;
  }

  private static Schema<?> anyPayload() {
    Schema<?> payload =
        new Schema<>()
            .description(
                "The document's JSON, by kind: treasure locations, drop tables or spawn rules.");
    PAYLOADS.keySet().stream().sorted().forEach(name -> payload.addOneOfItem(refTo(name)));
    return payload;
  }

  private static Schema<?> refTo(String name) {
    return new Schema<>().$ref(ref(name));
  }

  private static void replacePayload(Schema<?> body) {
    if (body != null
        && body.getProperties() != null
        && body.getProperties().get("payload") != null) {
      body.getProperties().put("payload", anyPayload());
    }
  }

  private static Schema<?> problemSchema() {
    Schema<?> error =
        new ObjectSchema()
            .addProperty("pointer", new StringSchema().description("JSON pointer into the body"))
            .addProperty("parameter", new StringSchema().description("path, query or header"))
            .addProperty("message", new StringSchema());
    Schema<?> key =
        new ObjectSchema()
            .addProperty("kind", new StringSchema())
            .addProperty("id", new StringSchema());
    return new ObjectSchema()
        .description("RFC 9457 problem details")
        .addProperty("type", new StringSchema())
        .addProperty("title", new StringSchema())
        .addProperty("status", new IntegerSchema())
        .addProperty("detail", new StringSchema())
        .addProperty("instance", new StringSchema())
        .addProperty("errors", new ArraySchema().items(error).description("400: what and where"))
        .addProperty(
            "currentVersion", new IntegerSchema().format("int64").description("412: the version"))
        .addProperty(
            "oldestRetainedRevision",
            new IntegerSchema().format("int64").description("410: re-list from this revision"))
        .addProperty("missing", new ArraySchema().items(key).description("409: not ACTIVE"))
        .addProperty("referrers", new ArraySchema().items(key).description("409: still refer"));
  }

  /** The problem responses of every operation, and the payload types of the document PUT. */
  private static void describe(String path, PathItem item) {
    item.readOperationsMap()
        .forEach(
            (method, operation) -> {
              for (Map.Entry<String, String> problem : problems(method.name(), path).entrySet()) {
                operation
                    .getResponses()
                    .addApiResponse(problem.getKey(), problemResponse(problem.getValue()));
              }
              if (method == PathItem.HttpMethod.PUT && path.endsWith("/{id}")) {
                operation.requestBody(
                    new RequestBody()
                        .required(true)
                        .content(
                            new Content()
                                .addMediaType(
                                    "application/json", new MediaType().schema(anyPayload()))));
              }
            });
  }

  /** Which errors a call can answer (design.md's status codes), and what each means there. */
  static Map<String, String> problems(String method, String path) {
    Map<String, String> problems = new LinkedHashMap<>();
    problems.put("400", "invalid input: errors say what and where");
    problems.put("401", "no valid bearer token");
    problems.put("403", "the token lacks the scope this call needs");
    boolean document = path.contains("/{kind}/{id}");
    if (method.equals("GET")) {
      if (document) {
        problems.put("404", "no such document or version");
      }
      if (!path.endsWith("/revision")) {
        problems.put("410", "the revision asked for is no longer retained");
      }
    } else {
      if (document) {
        problems.put("404", "no such document or version");
      }
      if (!method.equals("DELETE")) {
        problems.put(
            "408",
            "no byte of the body came for server.tomcat.connection-timeout (10 s by default)");
      }
      problems.put("409", "references: a referenced document is not ACTIVE, or still referenced");
      problems.put("412", "the document is not at the version If-Match / ifMatch names");
      if (!method.equals("DELETE")) {
        problems.put("413", "the payload or batch is too large");
        problems.put(
            "415", "the body is not application/json, or is compressed (Content-Encoding)");
      }
      if (document || path.endsWith("/batches") || path.endsWith("/schedules")) {
        problems.put("422", "the Idempotency-Key was used with a different request");
      }
    }
    problems.put("429", "this pod is at a cap (heavy calls, watches): retry after Retry-After");
    problems.put(
        "503",
        "the database is unavailable, or the call's deadline passed while it waited in this pod:"
            + " retry after Retry-After");
    return problems;
  }

  private static ApiResponse problemResponse(String description) {
    return new ApiResponse()
        .description(description)
        .content(
            new Content()
                .addMediaType("application/problem+json", new MediaType().schema(refTo(PROBLEM))));
  }
}
