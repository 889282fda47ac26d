package com.veltrix.config.rest;

import com.veltrix.config.catalog.ChangePage;
import com.veltrix.config.catalog.ConfigReader;
import com.veltrix.config.catalog.schedule.TimedReads;
import com.veltrix.config.catalog.write.ConfigWriter;
import com.veltrix.config.catalog.write.WriteCommand;
import com.veltrix.config.rest.Bodies.BatchBody;
import com.veltrix.config.rest.Bodies.BatchRequest;
import com.veltrix.config.rest.Bodies.ChangesBody;
import com.veltrix.config.rest.Bodies.RevisionBody;
import com.veltrix.config.security.Permissions;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Catalog-wide calls: atomic batches, the change feed and the current revision. */
@RestController
@Tag(name = "catalog", description = "Atomic batches, the change feed and the current revision")
@RequestMapping("/api/v1")
class CatalogController {

  private final ConfigWriter writer;
  private final ConfigReader reader;
  private final TimedReads timedReads;

  CatalogController(ConfigWriter writer, ConfigReader reader, TimedReads timedReads) {
    this.writer = writer;
    this.reader = reader;
    this.timedReads = timedReads;
  }

  @PostMapping(path = "/batches", consumes = MediaType.APPLICATION_JSON_VALUE)
  BatchBody batch(
      @RequestBody BatchRequest body,
      @RequestHeader(name = RestMapper.IDEMPOTENCY_KEY, required = false)
          String idempotencyKeyHeader,
      HttpServletRequest request) {
    Optional<String> idempotencyKey = RestMapper.idempotencyKey(idempotencyKeyHeader);
    List<WriteCommand> writes = RestMapper.writes(body);
    Permissions.requireAdminToRetire(writes);
    return RestMapper.batch(writer.batch(writes, idempotencyKey, RequestIds.context(request)));
  }

  @GetMapping("/changes")
  ChangesBody changes(
      @RequestParam Optional<Long> afterRevision,
      @RequestParam Optional<Integer> limit,
      @RequestParam Optional<List<String>> kinds) {
    ChangePage page =
        reader.changes(
            afterRevision.orElse(0L),
            limit.map(OptionalInt::of).orElse(OptionalInt.empty()),
            RestMapper.kinds(kinds.orElse(null)));
    return new ChangesBody(page.revision(), page.events());
  }

  /** The current revision, or with {@code atTime} the last one committed at or before it. */
  @GetMapping("/revision")
  RevisionBody revision(@RequestParam Optional<String> atTime) {
    Optional<Instant> at = RestMapper.time(atTime, "atTime");
    return new RevisionBody(
        at.isPresent() ? timedReads.revisionAt(at.get()) : reader.currentRevision());
  }
}
