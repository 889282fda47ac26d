package com.veltrix.config.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.PreconditionFailure;
import com.google.rpc.RetryInfo;
import com.veltrix.config.LogText;
import com.veltrix.config.catalog.CatalogException;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.DocumentNotFoundException;
import com.veltrix.config.catalog.IdempotencyKeyReusedException;
import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.OverloadedException;
import com.veltrix.config.catalog.PayloadTooLargeException;
import com.veltrix.config.catalog.PreconditionFailedException;
import com.veltrix.config.catalog.ReferenceConflictException;
import com.veltrix.config.catalog.RevisionNotRetainedException;
import com.veltrix.config.catalog.RevisionOutOfRangeException;
import com.veltrix.config.catalog.ScheduleNotPendingException;
import com.veltrix.config.catalog.StoreUnavailableException;
import com.veltrix.config.catalog.Violation;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.List;
import net.devh.boot.grpc.server.advice.GrpcAdvice;
import net.devh.boot.grpc.server.advice.GrpcExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.access.AccessDeniedException;

/**
 * The one mapping from failures to gRPC statuses, with the same facts REST's problem details carry
 * as standard {@code google.rpc} details: every error has an {@code ErrorInfo} (domain {@value
 * #DOMAIN}, a stable {@code reason}, metadata); refusals of a precondition a {@code
 * PreconditionFailure}; invalid input a {@code BadRequest}; answers worth retrying a {@code
 * RetryInfo}. Client errors are logged at WARN without a stack trace, server errors at ERROR; no
 * stack trace ever reaches a client.
 *
 * <pre>
 * InvalidInputException          INVALID_ARGUMENT    INVALID_INPUT + BadRequest
 * DocumentNotFoundException      NOT_FOUND           DOCUMENT_NOT_FOUND
 * PreconditionFailedException    FAILED_PRECONDITION VERSION_MISMATCH (currentVersion) + PreconditionFailure
 * ReferenceConflictException     FAILED_PRECONDITION REFERENCE_CONFLICT + PreconditionFailure per key
 * IdempotencyKeyReusedException  FAILED_PRECONDITION IDEMPOTENCY_KEY_REUSED + PreconditionFailure
 * RevisionNotRetainedException   FAILED_PRECONDITION REVISION_NOT_RETAINED (oldestRetainedRevision)
 * ScheduleNotPendingException    FAILED_PRECONDITION SCHEDULE_NOT_PENDING
 * RevisionOutOfRangeException    OUT_OF_RANGE        REVISION_OUT_OF_RANGE + BadRequest
 * PayloadTooLargeException       RESOURCE_EXHAUSTED  PAYLOAD_TOO_LARGE
 * OverloadedException            RESOURCE_EXHAUSTED  OVERLOADED + RetryInfo (this pod is at a cap)
 * StoreUnavailableException      UNAVAILABLE         DATABASE_UNAVAILABLE + RetryInfo, or
 *                                                     DEADLINE_SPENT_IN_INSTANCE + RetryInfo where
 *                                                     the database did not fail the call
 * AccessDeniedException          PERMISSION_DENIED   MISSING_SCOPE (a batch that retires)
 * anything else                  INTERNAL            INTERNAL
 * </pre>
 */
// public: the starter invokes handlers reflectively.
@GrpcAdvice
public class GrpcExceptionAdvice {

  static final String DOMAIN = "veltrix.config";
  private static final Logger log = LoggerFactory.getLogger(GrpcExceptionAdvice.class);
  private static final Duration RETRY_AFTER = Duration.newBuilder().setSeconds(1).build();

  /**
   * Built once, when the class is initialised (the advice is a bean made at startup), and not at a
   * pod's first fault: the first {@code google.rpc} detail serialised builds protobuf's descriptors
   * of {@code error_details.proto} and its imports, about 130 classes loaded and a descriptor pool
   * parsed. Measured on a three-instance fault run (C1, two busy cores): 230 ms of the thread that
   * answered the first UNAVAILABLE, on the cores that were reopening the pool's connections.
   */
  private static final com.google.rpc.Status DATABASE_UNAVAILABLE =
      status(
          Code.UNAVAILABLE,
          "the database is unavailable; retry shortly",
          info("DATABASE_UNAVAILABLE"),
          RetryInfo.newBuilder().setRetryDelay(RETRY_AFTER).build());

  /** The call spent its deadline in this pod (queued behind others), not on a failing database. */
  private static final com.google.rpc.Status DEADLINE_SPENT_IN_INSTANCE =
      status(
          Code.UNAVAILABLE,
          StoreUnavailableException.QUEUED_ANSWER,
          info("DEADLINE_SPENT_IN_INSTANCE"),
          RetryInfo.newBuilder().setRetryDelay(RETRY_AFTER).build());

  @GrpcExceptionHandler(Exception.class)
  public StatusRuntimeException handle(Exception e) {
    return toStatus(e);
  }

  /** Also used by the streaming calls, whose failures surface outside the service method. */
  static StatusRuntimeException toStatus(Throwable e) {
    if (e instanceof StatusRuntimeException status) {
      return status;
    }
    if (e instanceof AccessDeniedException) {
      log.warn("PERMISSION_DENIED {}", LogText.escape(e.getMessage()));
      return answer(Code.PERMISSION_DENIED, e.getMessage(), info("MISSING_SCOPE"));
    }
    if (e instanceof CatalogException refused) {
      return refused(refused);
    }
    if (e instanceof StoreUnavailableException unavailable) {
      if (unavailable.circuitOpen()) {
        log.debug("UNAVAILABLE {}", e.getMessage());
      } else {
        log.error(
            "UNAVAILABLE {}: {}",
            LogText.escape(e.getMessage()),
            LogText.escape(String.valueOf(e.getCause())));
      }
      return StatusProto.toStatusRuntimeException(
          unavailable.queuedInThisPod() ? DEADLINE_SPENT_IN_INSTANCE : DATABASE_UNAVAILABLE);
    }
    log.error("INTERNAL unexpected failure", e);
    return answer(Code.INTERNAL, "internal error", info("INTERNAL"));
  }

  private static StatusRuntimeException refused(CatalogException e) {
    String message = e.getMessage();
    StatusRuntimeException answer;
    if (e instanceof InvalidInputException invalid) {
      BadRequest.Builder details = BadRequest.newBuilder();
      for (Violation v : invalid.violations()) {
        details.addFieldViolations(
            BadRequest.FieldViolation.newBuilder()
                .setField(GrpcMapper.field(v))
                .setDescription(GrpcMapper.description(v)));
      }
      if (invalid.violations().size() == 1) {
        Violation v = invalid.violations().get(0);
        message = GrpcMapper.field(v) + ": " + GrpcMapper.description(v);
      }
      answer = answer(Code.INVALID_ARGUMENT, message, info("INVALID_INPUT"), details.build());
    } else if (e instanceof DocumentNotFoundException) {
      answer = answer(Code.NOT_FOUND, message, info("DOCUMENT_NOT_FOUND"));
    } else if (e instanceof PreconditionFailedException failed) {
      answer =
          failedPrecondition(
              message,
              info("VERSION_MISMATCH", "currentVersion", String.valueOf(failed.currentVersion())),
              violation("VERSION", "if_match_version", message));
    } else if (e instanceof ReferenceConflictException conflict) {
      List<PreconditionFailure.Violation> violations = new ArrayList<>();
      for (DocumentKey missing : conflict.missing()) {
        violations.add(violation("REFERENCE_NOT_ACTIVE", missing.toString(), e.getMessage()));
      }
      for (DocumentKey referrer : conflict.referrers()) {
        violations.add(violation("STILL_REFERENCED_BY", referrer.toString(), e.getMessage()));
      }
      answer =
          failedPrecondition(
              message,
              info("REFERENCE_CONFLICT", "document", String.valueOf(conflict.subject())),
              violations.toArray(PreconditionFailure.Violation[]::new));
    } else if (e instanceof IdempotencyKeyReusedException) {
      answer =
          failedPrecondition(
              message,
              info("IDEMPOTENCY_KEY_REUSED"),
              violation("IDEMPOTENCY_KEY", "idempotency_key", message));
    } else if (e instanceof RevisionNotRetainedException gone) {
      String oldest = String.valueOf(gone.oldestRetained());
      String field = GrpcMapper.field(Violation.parameter(gone.parameter(), message));
      answer =
          failedPrecondition(
              message,
              info("REVISION_NOT_RETAINED", "oldestRetainedRevision", oldest),
              violation("REVISION_RETAINED", field, message));
    } else if (e instanceof RevisionOutOfRangeException range) {
      answer =
          answer(
              Code.OUT_OF_RANGE,
              message,
              info("REVISION_OUT_OF_RANGE"),
              BadRequest.newBuilder()
                  .addFieldViolations(
                      BadRequest.FieldViolation.newBuilder()
                          .setField(
                              GrpcMapper.field(Violation.parameter(range.parameter(), message)))
                          .setDescription(message))
                  .build());
    } else if (e instanceof ScheduleNotPendingException) {
      answer = failedPrecondition(message, info("SCHEDULE_NOT_PENDING"));
    } else if (e instanceof PayloadTooLargeException) {
      answer = answer(Code.RESOURCE_EXHAUSTED, message, info("PAYLOAD_TOO_LARGE"));
    } else if (e instanceof OverloadedException) {
      answer =
          answer(
              Code.RESOURCE_EXHAUSTED,
              message,
              info("OVERLOADED"),
              RetryInfo.newBuilder().setRetryDelay(RETRY_AFTER).build());
    } else {
      answer = answer(Code.INVALID_ARGUMENT, message, info("INVALID_INPUT"));
    }
    log.warn("{} {}", answer.getStatus().getCode(), LogText.escape(e.getMessage()));
    return answer;
  }

  private static ErrorInfo info(String reason, String... metadata) {
    ErrorInfo.Builder info = ErrorInfo.newBuilder().setDomain(DOMAIN).setReason(reason);
    for (int i = 0; i < metadata.length; i += 2) {
      info.putMetadata(metadata[i], metadata[i + 1]);
    }
    return info.build();
  }

  private static PreconditionFailure.Violation violation(
      String type, String subject, String description) {
    return PreconditionFailure.Violation.newBuilder()
        .setType(type)
        .setSubject(subject)
        .setDescription(description)
        .build();
  }

  private static StatusRuntimeException failedPrecondition(
      String message, ErrorInfo info, PreconditionFailure.Violation... violations) {
    return answer(
        Code.FAILED_PRECONDITION,
        message,
        info,
        PreconditionFailure.newBuilder().addAllViolations(List.of(violations)).build());
  }

  private static StatusRuntimeException answer(Code code, String message, Message... details) {
    return StatusProto.toStatusRuntimeException(status(code, message, details));
  }

  private static com.google.rpc.Status status(Code code, String message, Message... details) {
    com.google.rpc.Status.Builder status =
        com.google.rpc.Status.newBuilder().setCode(code.getNumber()).setMessage(message);
    for (Message detail : details) {
      status.addDetails(Any.pack(detail));
    }
    return status.build();
  }
}
