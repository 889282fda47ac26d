package com.veltrix.config.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import com.veltrix.config.LogText;
import com.veltrix.config.catalog.CatalogException;
import com.veltrix.config.catalog.DocumentNotFoundException;
import com.veltrix.config.catalog.IdempotencyKeyReusedException;
import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.OverloadedException;
import com.veltrix.config.catalog.PayloadTooLargeException;
import com.veltrix.config.catalog.PreconditionFailedException;
import com.veltrix.config.catalog.ReferenceConflictException;
import com.veltrix.config.catalog.RevisionNotRetainedException;
import com.veltrix.config.catalog.RevisionOutOfRangeException;
import com.veltrix.config.catalog.StoreUnavailableException;
import com.veltrix.config.catalog.Violation;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import net.devh.boot.grpc.server.advice.GrpcAdvice;
import net.devh.boot.grpc.server.advice.GrpcExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.access.AccessDeniedException;

/**
 * The one mapping from failures to gRPC statuses. Client errors are logged at WARN without a stack
 * trace, server errors at ERROR; no stack trace ever reaches a client.
 *
 * <pre>
 * InvalidInputException          INVALID_ARGUMENT   + google.rpc.BadRequest field violations
 * DocumentNotFoundException      NOT_FOUND
 * PreconditionFailedException    FAILED_PRECONDITION (compare-and-set)
 * ReferenceConflictException     FAILED_PRECONDITION (references)
 * IdempotencyKeyReusedException  FAILED_PRECONDITION
 * RevisionOutOfRangeException    OUT_OF_RANGE
 * RevisionNotRetainedException   FAILED_PRECONDITION (the message names the oldest retained revision)
 * PayloadTooLargeException       RESOURCE_EXHAUSTED
 * OverloadedException            RESOURCE_EXHAUSTED + google.rpc.RetryInfo (this pod is at a cap)
 * StoreUnavailableException      UNAVAILABLE
 * AccessDeniedException          PERMISSION_DENIED (a batch that retires without configs:admin)
 * anything else                  INTERNAL
 * </pre>
 */
// public: the starter invokes handlers reflectively.
@GrpcAdvice
public class GrpcExceptionAdvice {

  private static final Logger log = LoggerFactory.getLogger(GrpcExceptionAdvice.class);

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
      return Status.PERMISSION_DENIED.withDescription(e.getMessage()).asRuntimeException();
    }
    if (e instanceof InvalidInputException invalid) {
      log.warn("INVALID_ARGUMENT {}", LogText.escape(e.getMessage()));
      return badRequest(invalid);
    }
    if (e instanceof OverloadedException) {
      log.warn("RESOURCE_EXHAUSTED {}", LogText.escape(e.getMessage()));
      return StatusProto.toStatusRuntimeException(
          com.google.rpc.Status.newBuilder()
              .setCode(Code.RESOURCE_EXHAUSTED_VALUE)
              .setMessage(e.getMessage())
              .addDetails(
                  Any.pack(
                      RetryInfo.newBuilder()
                          .setRetryDelay(Duration.newBuilder().setSeconds(1))
                          .build()))
              .build());
    }
    if (e instanceof CatalogException) {
      Status status = Status.fromCode(codeOf(e)).withDescription(e.getMessage());
      log.warn("{} {}", status.getCode(), LogText.escape(e.getMessage()));
      return status.asRuntimeException();
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
      return Status.UNAVAILABLE
          .withDescription("the database is unavailable; retry shortly")
          .asRuntimeException();
    }
    log.error("INTERNAL unexpected failure", e);
    return Status.INTERNAL.withDescription("internal error").asRuntimeException();
  }

  private static StatusRuntimeException badRequest(InvalidInputException e) {
    BadRequest.Builder details = BadRequest.newBuilder();
    for (Violation v : e.violations()) {
      details.addFieldViolations(
          BadRequest.FieldViolation.newBuilder()
              .setField(GrpcMapper.field(v))
              .setDescription(GrpcMapper.description(v)));
    }
    String message =
        e.violations().size() == 1
            ? GrpcMapper.field(e.violations().get(0))
                + ": "
                + GrpcMapper.description(e.violations().get(0))
            : e.getMessage();
    return StatusProto.toStatusRuntimeException(
        com.google.rpc.Status.newBuilder()
            .setCode(Code.INVALID_ARGUMENT_VALUE)
            .setMessage(message)
            .addDetails(Any.pack(details.build()))
            .build());
  }

  private static Status.Code codeOf(Throwable e) {
    if (e instanceof DocumentNotFoundException) {
      return Status.Code.NOT_FOUND;
    } else if (e instanceof PreconditionFailedException
        || e instanceof ReferenceConflictException
        || e instanceof IdempotencyKeyReusedException
        || e instanceof RevisionNotRetainedException) {
      return Status.Code.FAILED_PRECONDITION;
    } else if (e instanceof RevisionOutOfRangeException) {
      return Status.Code.OUT_OF_RANGE;
    } else if (e instanceof PayloadTooLargeException) {
      return Status.Code.RESOURCE_EXHAUSTED;
    }
    return Status.Code.INVALID_ARGUMENT;
  }
}
