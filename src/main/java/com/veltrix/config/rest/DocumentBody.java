package com.veltrix.config.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;
import com.veltrix.config.catalog.Document;
import com.veltrix.config.catalog.write.WriteResult;
import java.time.Instant;

/**
 * A document version as REST returns it. {@code payload} is the stored canonical JSON, written
 * as-is (never re-parsed); {@code unchanged} appears only on a no-op write.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record DocumentBody(
    String kind,
    String id,
    long version,
    long revision,
    String status,
    String contentHash,
    Instant updatedAt,
    String updatedBy,
    String requestId,
    @JsonRawValue String payload,
    Boolean unchanged) {

  static DocumentBody of(Document d) {
    return new DocumentBody(
        d.kind().name(),
        d.id(),
        d.version(),
        d.revision(),
        d.status().name(),
        d.contentHash(),
        d.updatedAt(),
        d.updatedBy(),
        d.requestId(),
        d.payload(),
        null);
  }

  static DocumentBody of(WriteResult result) {
    DocumentBody body = of(result.document());
    return result.unchanged() ? body.markUnchanged() : body;
  }

  private DocumentBody markUnchanged() {
    return new DocumentBody(
        kind,
        id,
        version,
        revision,
        status,
        contentHash,
        updatedAt,
        updatedBy,
        requestId,
        payload,
        true);
  }
}
