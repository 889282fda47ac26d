package com.veltrix.config.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.veltrix.config.catalog.ChangeEvent;
import java.util.List;

/** The request and response bodies of the REST API other than a document itself. */
final class Bodies {

  private Bodies() {}

  /**
   * {@code GET /{kind}} and {@code GET /{kind}/{id}/versions}; {@code assumedSchedules} only on a
   * preview ({@code atTime} in the future).
   */
  record PageBody(
      long revision,
      List<DocumentBody> items,
      String nextPageToken,
      @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> assumedSchedules) {}

  /** {@code POST /batches} request. */
  record BatchRequest(List<BatchWrite> writes) {}

  /** One write of a batch; {@code payload} only for upserts, {@code ifMatch} optional. */
  record BatchWrite(String op, String kind, String id, JsonNode payload, Long ifMatch) {}

  /** {@code POST /batches} response: one revision for the whole batch. */
  record BatchBody(long revision, List<DocumentBody> results) {}

  /** {@code POST /{kind}/{id}/rollback} request. */
  record RollbackRequest(Long toVersion) {}

  /** {@code GET /changes}: pass {@code revision} as the next {@code afterRevision}. */
  record ChangesBody(long revision, List<ChangeEvent> events) {}

  /** {@code GET /revision}. */
  record RevisionBody(long revision) {}
}
