package com.veltrix.config.storage;

import com.veltrix.config.catalog.StoreUnavailableException;
import java.util.function.Predicate;

/**
 * What the circuit breaker counts as a failure: the database itself did not answer (a connection
 * failure that outlived its retries, within a fair budget). Named in application.yaml ({@code
 * record-failure-predicate}).
 */
public class DatabaseUnavailable implements Predicate<Throwable> {

  @Override
  public boolean test(Throwable failure) {
    return failure instanceof StoreUnavailableException unavailable
        ? unavailable.databaseAtFault()
        : TransientFailures.isDatabaseFailure(failure);
  }
}
