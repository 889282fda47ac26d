package com.veltrix.config.rest;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.catalog.StoreUnavailableException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.web.ServerProperties;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;

/** The 503s that are hard to provoke over a port on demand: which of them blames the database. */
class RestExceptionHandlerTest {

  final RestExceptionHandler handler = new RestExceptionHandler(new ServerProperties());

  @Test
  void aDatabaseThatDidNotAnswerIsTheDatabase() {
    ResponseEntity<ProblemDetail> answer =
        handler.unavailable(
            new StoreUnavailableException(
                "the database did not answer within the call's deadline",
                new SQLException("canceling statement due to statement timeout")));

    assertThat(answer.getStatusCode().value()).isEqualTo(503);
    assertThat(answer.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("1");
    assertThat(answer.getBody().getDetail())
        .isEqualTo("the database is unavailable; retry shortly");
  }

  @Test
  void aCallThatSpentItsDeadlineQueuedInThePodDoesNotBlameTheDatabase() {
    ResponseEntity<ProblemDetail> answer =
        handler.unavailable(
            new StoreUnavailableException(
                "writers are queued past the call's deadline", null, false, false));

    assertThat(answer.getStatusCode().value()).isEqualTo(503);
    assertThat(answer.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("1");
    assertThat(answer.getBody().getDetail())
        .contains("waited in this instance")
        .doesNotContain("database is unavailable");
  }
}
