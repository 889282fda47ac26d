package com.veltrix.config.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import com.google.rpc.PreconditionFailure;
import com.google.rpc.RetryInfo;
import com.veltrix.config.catalog.OverloadedException;
import com.veltrix.config.catalog.RevisionNotRetainedException;
import com.veltrix.config.catalog.StoreUnavailableException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** The answers that are hard to provoke over a port: an unavailable database, a pod at its cap. */
class GrpcExceptionAdviceTest {

  @Test
  void anUnavailableDatabaseSaysWhenToRetryAndNothingOfTheCause() {
    StatusRuntimeException e =
        GrpcExceptionAdvice.toStatus(
            new StoreUnavailableException("pool", new SQLException("password=hunter2")));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getStatus().getDescription()).doesNotContain("hunter2", "SQLException");
    assertThat(GrpcApiContract.detail(e, ErrorInfo.class).getReason())
        .isEqualTo("DATABASE_UNAVAILABLE");
    assertThat(GrpcApiContract.detail(e, RetryInfo.class).getRetryDelay().getSeconds())
        .isEqualTo(1);
  }

  @Test
  void aCallThatSpentItsDeadlineQueuedInThePodDoesNotBlameTheDatabase() {
    StatusRuntimeException e =
        GrpcExceptionAdvice.toStatus(
            new StoreUnavailableException(
                "the call's deadline passed while waiting (contention or a queue in this pod)",
                new SQLException("timed out waiting for a connection"),
                false,
                false));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getStatus().getDescription())
        .contains("waited in this instance")
        .doesNotContain("database is unavailable", "SQLException");
    assertThat(GrpcApiContract.detail(e, ErrorInfo.class).getReason())
        .isEqualTo("DEADLINE_SPENT_IN_INSTANCE");
    assertThat(GrpcApiContract.detail(e, RetryInfo.class).getRetryDelay().getSeconds())
        .isEqualTo(1);
  }

  @Test
  void aPodAtItsCapIsResourceExhaustedWithRetryInfo() {
    StatusRuntimeException e =
        GrpcExceptionAdvice.toStatus(new OverloadedException("at the watch cap"));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(GrpcApiContract.detail(e, ErrorInfo.class).getReason()).isEqualTo("OVERLOADED");
    assertThat(GrpcApiContract.detail(e, RetryInfo.class).hasRetryDelay()).isTrue();
  }

  @Test
  void aRevisionNoLongerRetainedNamesTheOldestThatIs() {
    StatusRuntimeException e =
        GrpcExceptionAdvice.toStatus(new RevisionNotRetainedException("afterRevision", 3, 70));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(GrpcApiContract.detail(e, ErrorInfo.class).getMetadataMap())
        .containsEntry("oldestRetainedRevision", "70");
    assertThat(GrpcApiContract.detail(e, PreconditionFailure.class).getViolations(0).getSubject())
        .isEqualTo("after_revision");
  }
}
