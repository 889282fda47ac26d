package com.veltrix.config.catalog.schedule;

import com.veltrix.config.catalog.write.WriteCommand;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A batch to apply at {@code applyAt}: PENDING until a pod applies it (APPLIED, at {@code
 * revision}) or it cannot be applied (FAILED, with the {@code problem}), or until it is CANCELLED.
 * {@code finishedBy} / {@code finishedRequestId}: the pod that applied or failed it and the
 * schedule id, or the caller who cancelled it and that call's request id.
 */
public record Schedule(
    String id,
    Instant applyAt,
    Status status,
    String description,
    List<WriteCommand> writes,
    String createdBy,
    Instant createdAt,
    String requestId,
    OptionalLong revision,
    Optional<Problem> problem,
    Optional<Instant> finishedAt,
    Optional<String> finishedBy,
    Optional<String> finishedRequestId) {

  public enum Status {
    PENDING,
    APPLIED,
    FAILED,
    CANCELLED
  }

  /**
   * Why a schedule failed, as its adapters report a refused write: a machine-readable reason (the
   * gRPC ErrorInfo reason), the HTTP status the same batch would have got, and a sentence.
   */
  public record Problem(String reason, int status, String detail) {}
}
