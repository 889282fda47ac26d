package com.veltrix.config.storage;

import static com.veltrix.config.storage.TransientFailuresTest.server;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.dao.CannotAcquireLockException;
import org.springframework.dao.DataAccessResourceFailureException;

class EarlierAttemptsTest {

  @Test
  void aRefusedAttemptLeavesNothingButALostReplyStaysUncertainForEveryLaterAttempt() {
    EarlierAttempts attempts = new EarlierAttempts();
    assertThat(attempts.begin()).as("the first attempt").isFalse();
    attempts.failed(new CannotAcquireLockException("lost the row", server("40001")));
    assertThat(attempts.begin()).as("after a 40001").isFalse();
    attempts.failed(new DataAccessResourceFailureException("reply lost", server("08006")));
    assertThat(attempts.begin()).as("after a broken connection").isTrue();
    attempts.failed(new CannotAcquireLockException("lock wait cut", server("55P03")));
    assertThat(attempts.begin()).as("a refusal after it does not undo it").isTrue();
  }

  @Test
  void anAttemptWhoseFailureWasNotSeenMayHaveCommitted() {
    EarlierAttempts attempts = new EarlierAttempts();
    attempts.begin();
    // the runner's own COMMIT failed: the write never saw it
    assertThat(attempts.begin()).isTrue();
  }
}
