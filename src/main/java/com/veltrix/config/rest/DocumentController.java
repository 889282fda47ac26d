package com.veltrix.config.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.catalog.CatalogStore.ListFilter;
import com.veltrix.config.catalog.ConfigReader;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.Page;
import com.veltrix.config.catalog.Violation;
import com.veltrix.config.catalog.schedule.TimedReads;
import com.veltrix.config.catalog.schedule.TimedReads.Timed;
import com.veltrix.config.catalog.write.ConfigWriter;
import com.veltrix.config.catalog.write.WriteCommand;
import com.veltrix.config.catalog.write.WriteResult;
import com.veltrix.config.rest.Bodies.PageBody;
import com.veltrix.config.rest.Bodies.RollbackRequest;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** One document: create/update, read, history, rollback, retire; and the listing of a kind. */
@RestController
@Tag(
    name = "documents",
    description =
        "One document: create or update, read, history, rollback, retire; listings of a kind")
@RequestMapping("/api/v1")
class DocumentController {

  private static final CacheControl IMMUTABLE =
      CacheControl.maxAge(Duration.ofDays(365)).cachePrivate().immutable();

  private final ConfigWriter writer;
  private final ConfigReader reader;
  private final TimedReads timedReads;

  DocumentController(ConfigWriter writer, ConfigReader reader, TimedReads timedReads) {
    this.timedReads = timedReads;
    this.writer = writer;
    this.reader = reader;
  }

  @PutMapping(path = "/{kind}/{id}", consumes = MediaType.APPLICATION_JSON_VALUE)
  ResponseEntity<DocumentBody> put(
      @PathVariable String kind,
      @PathVariable String id,
      @RequestBody JsonNode payload,
      @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch,
      @RequestHeader(name = HttpHeaders.IF_NONE_MATCH, required = false) String ifNoneMatch,
      @RequestHeader(name = RestMapper.IDEMPOTENCY_KEY, required = false) String idempotencyKey,
      HttpServletRequest request) {
    DocumentKey key = RestMapper.key(kind, id);
    return write(
        new WriteCommand.Upsert(key, payload, RestMapper.precondition(ifMatch, ifNoneMatch)),
        idempotencyKey,
        request);
  }

  @GetMapping("/{kind}/{id}")
  ResponseEntity<DocumentBody> get(
      @PathVariable String kind,
      @PathVariable String id,
      @RequestParam Optional<Long> version,
      @RequestParam Optional<Long> atRevision,
      @RequestParam Optional<String> atTime,
      @RequestHeader(name = HttpHeaders.IF_NONE_MATCH, required = false) String ifNoneMatch) {
    DocumentKey key = RestMapper.key(kind, id);
    Optional<Instant> at = RestMapper.time(atTime, "atTime");
    HttpHeaders headers = new HttpHeaders();
    Document document;
    if (at.isPresent()) {
      Timed<Document> timed =
          timedReads.get(key, optionalLong(version), optionalLong(atRevision), at.get());
      document = timed.value();
      timedHeaders(headers, timed);
    } else {
      document = reader.get(key, optionalLong(version), optionalLong(atRevision));
    }
    CacheControl cache = version.isPresent() ? IMMUTABLE : CacheControl.noCache();
    if (RestMapper.matches(ifNoneMatch, document.version())) {
      return ResponseEntity.status(HttpStatus.NOT_MODIFIED)
          .headers(headers)
          .eTag(RestMapper.etag(document.version()))
          .cacheControl(cache)
          .build();
    }
    return ResponseEntity.ok()
        .headers(headers)
        .eTag(RestMapper.etag(document.version()))
        .cacheControl(cache)
        .body(DocumentBody.of(document));
  }

  /** The revision an {@code atTime} read resolved to, and the schedules a preview assumed. */
  static final String REVISION_HEADER = "X-Config-Revision";

  static final String SCHEDULES_HEADER = "X-Config-Assumed-Schedules";

  private static void timedHeaders(HttpHeaders headers, Timed<?> timed) {
    headers.set(REVISION_HEADER, Long.toString(timed.revision()));
    if (!timed.assumedSchedules().isEmpty()) {
      headers.set(SCHEDULES_HEADER, String.join(",", timed.assumedSchedules()));
    }
  }

  @GetMapping("/{kind}/{id}/versions")
  PageBody versions(
      @PathVariable String kind,
      @PathVariable String id,
      @RequestParam Optional<Integer> limit,
      @RequestParam Optional<String> pageToken) {
    return RestMapper.page(reader.history(RestMapper.key(kind, id), optionalInt(limit), pageToken));
  }

  @PostMapping(path = "/{kind}/{id}/rollback", consumes = MediaType.APPLICATION_JSON_VALUE)
  ResponseEntity<DocumentBody> rollback(
      @PathVariable String kind,
      @PathVariable String id,
      @RequestBody RollbackRequest body,
      @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch,
      @RequestHeader(name = RestMapper.IDEMPOTENCY_KEY, required = false) String idempotencyKey,
      HttpServletRequest request) {
    DocumentKey key = RestMapper.key(kind, id);
    if (body == null || body.toVersion() == null) {
      throw new InvalidInputException(List.of(Violation.at("/toVersion", "is required")));
    }
    return write(
        new WriteCommand.Rollback(key, body.toVersion(), RestMapper.precondition(ifMatch, null)),
        idempotencyKey,
        request);
  }

  @DeleteMapping("/{kind}/{id}")
  ResponseEntity<DocumentBody> retire(
      @PathVariable String kind,
      @PathVariable String id,
      @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch,
      @RequestHeader(name = RestMapper.IDEMPOTENCY_KEY, required = false) String idempotencyKey,
      HttpServletRequest request) {
    DocumentKey key = RestMapper.key(kind, id);
    return write(
        new WriteCommand.Retire(key, RestMapper.precondition(ifMatch, null)),
        idempotencyKey,
        request);
  }

  @GetMapping("/{kind}")
  PageBody list(
      @PathVariable String kind,
      @RequestParam Optional<String> status,
      @RequestParam Optional<String> zone,
      @RequestParam Optional<Integer> limit,
      @RequestParam Optional<String> pageToken,
      @RequestParam Optional<Long> atRevision,
      @RequestParam Optional<String> atTime) {
    ListFilter filter =
        new ListFilter(
            RestMapper.kind(kind),
            RestMapper.status(status.orElse(null)),
            zone.filter(z -> !z.isEmpty()));
    Optional<Instant> at = RestMapper.time(atTime, "atTime");
    if (at.isPresent()) {
      Timed<Page<Document>> timed =
          timedReads.list(
              filter, optionalInt(limit), pageToken, optionalLong(atRevision), at.get());
      return RestMapper.page(timed.value(), timed.assumedSchedules());
    }
    return RestMapper.page(
        reader.list(filter, optionalInt(limit), pageToken, optionalLong(atRevision)));
  }

  /**
   * 201 with Location when the write created the document, else 200; ETag either way. With an
   * {@code Idempotency-Key}, a replay answers the first result (and writes nothing).
   */
  private ResponseEntity<DocumentBody> write(
      WriteCommand command, String idempotencyKey, HttpServletRequest request) {
    WriteResult result =
        writer.write(
            command, RestMapper.idempotencyKey(idempotencyKey), RequestIds.context(request));
    Document d = result.document();
    ResponseEntity.BodyBuilder response =
        result.created()
            ? ResponseEntity.created(URI.create("/api/v1/" + d.kind().pathSegment() + "/" + d.id()))
            : ResponseEntity.ok();
    return response.eTag(RestMapper.etag(d.version())).body(DocumentBody.of(result));
  }

  private static OptionalLong optionalLong(Optional<Long> value) {
    return value.map(OptionalLong::of).orElse(OptionalLong.empty());
  }

  private static OptionalInt optionalInt(Optional<Integer> value) {
    return value.map(OptionalInt::of).orElse(OptionalInt.empty());
  }
}
