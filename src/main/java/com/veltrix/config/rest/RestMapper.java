package com.veltrix.config.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.DocumentNotFoundException;
import com.veltrix.config.catalog.IdempotencyKeys;
import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.Page;
import com.veltrix.config.catalog.Status;
import com.veltrix.config.catalog.Violation;
import com.veltrix.config.catalog.write.BatchResult;
import com.veltrix.config.catalog.write.Precondition;
import com.veltrix.config.catalog.write.WriteCommand;
import com.veltrix.config.rest.Bodies.BatchBody;
import com.veltrix.config.rest.Bodies.BatchRequest;
import com.veltrix.config.rest.Bodies.BatchWrite;
import com.veltrix.config.rest.Bodies.PageBody;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

/** REST to domain and back: path segments, headers, batch bodies, pages. */
final class RestMapper {

  static final String IDEMPOTENCY_KEY = "Idempotency-Key";

  private static final String KIND_SEGMENTS =
      Arrays.stream(Kind.values()).map(Kind::pathSegment).collect(Collectors.joining(", "));

  private RestMapper() {}

  static Kind kind(String segment) {
    return Kind.fromPathSegment(segment)
        .orElseThrow(
            () ->
                new DocumentNotFoundException(
                    "unknown kind '" + segment + "': one of " + KIND_SEGMENTS));
  }

  static DocumentKey key(String kindSegment, String id) {
    return DocumentKey.of(kind(kindSegment), id, Violation.Location.parameter("id"));
  }

  /**
   * The {@code Idempotency-Key} header of a write: absent, or a key as {@link IdempotencyKeys}
   * allows.
   */
  static Optional<String> idempotencyKey(String header) {
    return IdempotencyKeys.check(header, Violation.Location.parameter(IDEMPOTENCY_KEY));
  }

  /** {@code If-Match: "3"} (compare-and-set), {@code If-Match: *}, {@code If-None-Match: *}. */
  static Precondition precondition(String ifMatch, String ifNoneMatch) {
    boolean mustNotExist = false;
    if (ifNoneMatch != null) {
      if (!"*".equals(ifNoneMatch.trim())) {
        throw InvalidInputException.parameter(
            "If-None-Match", "only * (create only) is supported on writes");
      }
      mustNotExist = true;
    }
    if (ifMatch == null) {
      return new Precondition(OptionalLong.empty(), false, mustNotExist);
    }
    if ("*".equals(ifMatch.trim())) {
      return new Precondition(OptionalLong.empty(), true, mustNotExist);
    }
    return new Precondition(OptionalLong.of(etagVersion("If-Match", ifMatch)), false, mustNotExist);
  }

  /** The version in an entity tag {@code "3"} (quotes optional, {@code W/} tolerated). */
  static long etagVersion(String header, String value) {
    String tag = value.trim();
    if (tag.startsWith("W/")) {
      tag = tag.substring(2);
    }
    if (tag.length() >= 2 && tag.startsWith("\"") && tag.endsWith("\"")) {
      tag = tag.substring(1, tag.length() - 1);
    }
    try {
      long version = Long.parseLong(tag);
      if (version >= 1) {
        return version;
      }
    } catch (NumberFormatException e) {
      // fall through to the error below
    }
    throw InvalidInputException.parameter(
        header, "must be a version entity tag such as \"3\", was " + value);
  }

  /** Whether an {@code If-None-Match} header on a read matches {@code version}. */
  static boolean matches(String ifNoneMatch, long version) {
    if (ifNoneMatch == null) {
      return false;
    }
    for (String tag : ifNoneMatch.split(",")) {
      String t = tag.trim();
      if (t.equals("*") || t.equals(etag(version)) || t.equals("W/" + etag(version))) {
        return true;
      }
    }
    return false;
  }

  static String etag(long version) {
    return "\"" + version + "\"";
  }

  static Optional<Status> status(String value) {
    if (value == null || value.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Status.valueOf(value));
    } catch (IllegalArgumentException e) {
      throw InvalidInputException.parameter("status", "must be ACTIVE or RETIRED, was " + value);
    }
  }

  /** {@code kinds=DROP_TABLE,spawn-rules}: enum names or path segments, comma separated. */
  static Set<Kind> kinds(List<String> values) {
    Set<Kind> kinds = EnumSet.noneOf(Kind.class);
    if (values == null) {
      return kinds;
    }
    for (String value : values) {
      for (String part : value.split(",")) {
        String name = part.trim();
        if (name.isEmpty()) {
          continue;
        }
        kinds.add(
            Kind.fromName(name)
                .or(() -> Kind.fromPathSegment(name))
                .orElseThrow(
                    () ->
                        InvalidInputException.parameter(
                            "kinds", "unknown kind '" + name + "': one of " + KIND_SEGMENTS)));
      }
    }
    return kinds;
  }

  static List<WriteCommand> writes(BatchRequest request) {
    if (request == null || request.writes() == null) {
      throw new InvalidInputException(List.of(Violation.at("/writes", "is required")));
    }
    return InvalidInputException.mapAll(
        request.writes(), (i, write) -> write(write, "/writes/" + i));
  }

  private static WriteCommand write(BatchWrite write, String at) {
    if (write == null) {
      throw new InvalidInputException(List.of(Violation.at(at, "must be an object")));
    }
    List<Violation> violations = new ArrayList<>();
    Optional<Kind> kind = Optional.ofNullable(write.kind()).flatMap(Kind::fromName);
    if (kind.isEmpty()) {
      violations.add(
          Violation.at(at + "/kind", "must be one of TREASURE_LOCATION, DROP_TABLE, SPAWN_RULE"));
    }
    if (!DocumentKey.isValidId(write.id())) {
      violations.add(Violation.at(at + "/id", DocumentKey.ID_RULE));
    }
    if (write.ifMatch() != null && write.ifMatch() < 1) {
      violations.add(Violation.at(at + "/ifMatch", "must be a version number, 1 or more"));
    }
    boolean hasPayload = write.payload() != null && !write.payload().isNull();
    String op = write.op();
    if ("upsert".equals(op) && !hasPayload) {
      violations.add(Violation.at(at + "/payload", "is required for an upsert"));
    } else if ("retire".equals(op) && hasPayload) {
      violations.add(Violation.at(at + "/payload", "must not be given for a retire"));
    } else if (!"upsert".equals(op) && !"retire".equals(op)) {
      violations.add(Violation.at(at + "/op", "must be upsert or retire"));
    }
    if (!violations.isEmpty()) {
      throw new InvalidInputException(violations);
    }
    DocumentKey key = new DocumentKey(kind.get(), write.id());
    Precondition precondition =
        write.ifMatch() == null ? Precondition.NONE : Precondition.ifMatch(write.ifMatch());
    JsonNode payload = write.payload();
    return "upsert".equals(op)
        ? new WriteCommand.Upsert(key, payload, precondition)
        : new WriteCommand.Retire(key, precondition);
  }

  static PageBody page(Page<Document> page) {
    return page(page, List.of());
  }

  static PageBody page(Page<Document> page, List<String> assumedSchedules) {
    return new PageBody(
        page.revision(),
        page.items().stream().map(DocumentBody::of).toList(),
        page.nextPageToken().orElse(null),
        assumedSchedules);
  }

  /** An RFC 3339 time parameter ({@code atTime}, {@code from}, {@code until}). */
  static Optional<Instant> time(Optional<String> value, String parameter) {
    return value.map(
        text -> {
          try {
            return OffsetDateTime.parse(text).toInstant();
          } catch (DateTimeParseException e) {
            throw InvalidInputException.parameter(
                parameter,
                "must be an RFC 3339 time such as 2026-12-24T18:00:00Z, was '" + text + "'");
          }
        });
  }

  static BatchBody batch(BatchResult result) {
    return new BatchBody(
        result.revision(), result.results().stream().map(DocumentBody::of).toList());
  }
}
