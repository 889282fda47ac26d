package com.veltrix.config.grpc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Timestamp;
import com.veltrix.config.catalog.CatalogStore.VersionRef;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.FetchResult;
import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.ManifestEntry;
import com.veltrix.config.catalog.Status;
import com.veltrix.config.catalog.Violation;
import com.veltrix.config.catalog.payload.JsonSyntax;
import com.veltrix.config.catalog.write.BatchResult;
import com.veltrix.config.catalog.write.Precondition;
import com.veltrix.config.catalog.write.WriteCommand;
import com.veltrix.config.grpc.v1.ConfigDocument;
import com.veltrix.config.grpc.v1.ConfigKind;
import com.veltrix.config.grpc.v1.ConfigRef;
import com.veltrix.config.grpc.v1.ConfigStatus;
import com.veltrix.config.grpc.v1.ConfigWrite;
import com.veltrix.config.grpc.v1.GetConfigsResponse;
import com.veltrix.config.grpc.v1.PutConfigsResponse;
import com.veltrix.config.grpc.v1.WatchChangesResponse;
import com.veltrix.config.grpc.v1.WriteOp;
import com.veltrix.config.grpc.v1.WriteResult;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.springframework.stereotype.Component;

/** Proto to domain and back. Invalid fields become violations named by their proto field path. */
@Component
class GrpcMapper {

  private final ObjectMapper json;

  GrpcMapper(ObjectMapper json) {
    this.json = json;
  }

  static Kind kind(ConfigKind kind, String field) {
    return switch (kind) {
      case CONFIG_KIND_TREASURE_LOCATION -> Kind.TREASURE_LOCATION;
      case CONFIG_KIND_DROP_TABLE -> Kind.DROP_TABLE;
      case CONFIG_KIND_SPAWN_RULE -> Kind.SPAWN_RULE;
      default ->
          throw invalid(
              field,
              "must be CONFIG_KIND_TREASURE_LOCATION, CONFIG_KIND_DROP_TABLE or"
                  + " CONFIG_KIND_SPAWN_RULE, was "
                  + kind);
    };
  }

  static ConfigKind kind(Kind kind) {
    return switch (kind) {
      case TREASURE_LOCATION -> ConfigKind.CONFIG_KIND_TREASURE_LOCATION;
      case DROP_TABLE -> ConfigKind.CONFIG_KIND_DROP_TABLE;
      case SPAWN_RULE -> ConfigKind.CONFIG_KIND_SPAWN_RULE;
    };
  }

  static Set<Kind> kinds(List<ConfigKind> kinds) {
    Set<Kind> result = EnumSet.noneOf(Kind.class);
    for (int i = 0; i < kinds.size(); i++) {
      result.add(kind(kinds.get(i), "kinds[" + i + "]"));
    }
    return result;
  }

  /** 0 means "current"; negative is refused. */
  static OptionalLong revision(long value, String field) {
    if (value < 0) {
      throw invalid(field, "must be 0 (current) or a revision, was " + value);
    }
    return value == 0 ? OptionalLong.empty() : OptionalLong.of(value);
  }

  static long afterRevision(long value) {
    if (value < 0) {
      throw invalid("after_revision", "must be 0 or more, was " + value);
    }
    return value;
  }

  static List<VersionRef> refs(List<ConfigRef> refs) {
    return InvalidInputException.mapAll(
        refs,
        (i, ref) -> {
          String at = "refs[" + i + "]";
          Kind kind = kind(ref.getKind(), at + ".kind");
          DocumentKey.requireValidId(ref.getId(), Violation.Location.parameter(at + ".id"));
          if (ref.getVersion() < 0) {
            throw invalid(
                at + ".version", "must be 0 (latest) or a version, was " + ref.getVersion());
          }
          return new VersionRef(kind, ref.getId(), ref.getVersion());
        });
  }

  List<WriteCommand> writes(List<ConfigWrite> writes) {
    return InvalidInputException.mapAll(writes, (i, write) -> write(write, "writes[" + i + "]"));
  }

  private WriteCommand write(ConfigWrite write, String at) {
    Kind kind = kind(write.getKind(), at + ".kind");
    DocumentKey.requireValidId(write.getId(), Violation.Location.parameter(at + ".id"));
    if (write.getIfMatchVersion() < 0) {
      throw invalid(at + ".if_match_version", "must be 0 (none) or a version");
    }
    DocumentKey key = new DocumentKey(kind, write.getId());
    Precondition precondition =
        write.getIfMatchVersion() == 0
            ? Precondition.NONE
            : Precondition.ifMatch(write.getIfMatchVersion());
    if (write.getOp() == WriteOp.WRITE_OP_RETIRE) {
      if (!write.getPayloadJson().isEmpty()) {
        throw invalid(at + ".payload_json", "must be empty for WRITE_OP_RETIRE");
      }
      return new WriteCommand.Retire(key, precondition);
    }
    if (write.getOp() != WriteOp.WRITE_OP_UPSERT) {
      throw invalid(at + ".op", "must be WRITE_OP_UPSERT or WRITE_OP_RETIRE, was " + write.getOp());
    }
    if (write.getPayloadJson().isEmpty()) {
      throw invalid(at + ".payload_json", "is required for UPSERT");
    }
    return new WriteCommand.Upsert(
        key, parse(write.getPayloadJson(), at + ".payload_json"), precondition);
  }

  private JsonNode parse(String payload, String field) {
    try {
      return json.readTree(payload);
    } catch (JsonProcessingException e) {
      throw invalid(field, JsonSyntax.describe(e));
    } catch (NumberFormatException e) {
      // Jackson lets BigDecimal's refusal of absurd exponents escape (found by the fuzz test)
      throw invalid(field, "malformed JSON: a number is out of range");
    }
  }

  static ConfigDocument document(Document d) {
    return ConfigDocument.newBuilder()
        .setKind(kind(d.kind()))
        .setId(d.id())
        .setVersion(d.version())
        .setRevision(d.revision())
        .setStatus(
            d.status() == Status.ACTIVE
                ? ConfigStatus.CONFIG_STATUS_ACTIVE
                : ConfigStatus.CONFIG_STATUS_RETIRED)
        .setContentHash(d.contentHash())
        .setPayloadJson(d.payload())
        .setUpdatedAt(timestamp(d.updatedAt()))
        .setUpdatedBy(d.updatedBy())
        .build();
  }

  static com.veltrix.config.grpc.v1.ManifestEntry manifestEntry(ManifestEntry e) {
    return com.veltrix.config.grpc.v1.ManifestEntry.newBuilder()
        .setKind(kind(e.kind()))
        .setId(e.id())
        .setVersion(e.version())
        .setContentHash(e.contentHash())
        .setSizeBytes(e.sizeBytes())
        .build();
  }

  static GetConfigsResponse fetched(FetchResult result) {
    GetConfigsResponse.Builder response = GetConfigsResponse.newBuilder();
    result.found().forEach(d -> response.addConfigs(document(d)));
    result
        .missing()
        .forEach(
            r ->
                response.addMissing(
                    ConfigRef.newBuilder()
                        .setKind(kind(r.kind()))
                        .setId(r.id())
                        .setVersion(r.version())));
    return response.build();
  }

  static PutConfigsResponse written(BatchResult result) {
    PutConfigsResponse.Builder response =
        PutConfigsResponse.newBuilder().setRevision(result.revision());
    result
        .results()
        .forEach(
            r ->
                response.addResults(
                    WriteResult.newBuilder()
                        .setDocument(document(r.document()))
                        .setUnchanged(r.unchanged())));
    return response.build();
  }

  static Timestamp timestamp(Instant at) {
    return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
  }

  /** An optional time field: unset (or the epoch) is absent; a bad one is INVALID_ARGUMENT. */
  static Optional<Instant> time(boolean set, Timestamp at, String field) {
    if (!set || (at.getSeconds() == 0 && at.getNanos() == 0)) {
      return Optional.empty();
    }
    if (at.getNanos() < 0 || at.getNanos() > 999_999_999) {
      throw invalid(field, "nanos must be 0-999999999, was " + at.getNanos());
    }
    try {
      return Optional.of(Instant.ofEpochSecond(at.getSeconds(), at.getNanos()));
    } catch (java.time.DateTimeException e) {
      throw invalid(field, "is out of range");
    }
  }

  static WatchChangesResponse change(com.veltrix.config.catalog.ChangeEvent e) {
    WatchChangesResponse.Builder message = WatchChangesResponse.newBuilder();
    if (e.committedAt() != null) {
      message.setCommittedAt(timestamp(e.committedAt()));
    }
    return message
        .setRevision(e.revision())
        .setKind(kind(e.kind()))
        .setId(e.id())
        .setVersion(e.version())
        .setType(
            e.type() == com.veltrix.config.catalog.ChangeEvent.Type.UPSERTED
                ? WatchChangesResponse.ChangeType.CHANGE_TYPE_UPSERTED
                : WatchChangesResponse.ChangeType.CHANGE_TYPE_RETIRED)
        .setContentHash(e.contentHash())
        .build();
  }

  static WatchChangesResponse progress(long revision) {
    return WatchChangesResponse.newBuilder()
        .setRevision(revision)
        .setType(WatchChangesResponse.ChangeType.CHANGE_TYPE_PROGRESS)
        .build();
  }

  /**
   * The proto field a violation is about: body pointers of a batch ({@code /writes/3/payload/x})
   * become {@code writes[3].payload_json} (the rest of the pointer goes into the description);
   * parameter names become snake_case.
   */
  static String field(Violation v) {
    if (v.pointer() == null) {
      return v.parameter().replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase();
    }
    String[] parts = v.pointer().split("/", -1);
    if (parts.length >= 3 && parts[1].equals("writes")) {
      String field =
          parts.length >= 4 && parts[3].equals("payload")
              ? "payload_json"
              : parts.length >= 4 ? parts[3] : "";
      return "writes[" + parts[2] + "]" + (field.isEmpty() ? "" : "." + field);
    }
    return v.pointer().isEmpty() ? "payload_json" : v.pointer().substring(1).replace('/', '.');
  }

  /** The pointer inside a payload, when the violation is about one. */
  static String description(Violation v) {
    if (v.pointer() != null) {
      String[] parts = v.pointer().split("/", 5);
      if (parts.length == 5 && parts[1].equals("writes") && parts[3].equals("payload")) {
        return "/" + parts[4] + ": " + v.message();
      }
    }
    return v.message();
  }

  static InvalidInputException invalid(String field, String message) {
    return InvalidInputException.parameter(field, message);
  }
}
