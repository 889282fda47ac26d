package com.veltrix.config.storage;

/**
 * What the earlier attempts of one write may have left in the database, across the store's retries.
 * Once one of them may have committed (its failure came after COMMIT could have been applied, or
 * was not seen here at all), every later attempt must look for what it wrote; an attempt the
 * database refused for contention wrote nothing.
 */
final class EarlierAttempts {

  private boolean started;
  private boolean mayHaveCommitted;
  private Throwable failure;

  /** An attempt begins: whether one before it may have committed. */
  boolean begin() {
    if (started && (failure == null || TransientFailures.mayHaveCommitted(failure))) {
      mayHaveCommitted = true;
    }
    started = true;
    failure = null;
    return mayHaveCommitted;
  }

  /** The attempt that began last failed with {@code e}, seen by the write itself. */
  void failed(Throwable e) {
    failure = e;
  }
}
