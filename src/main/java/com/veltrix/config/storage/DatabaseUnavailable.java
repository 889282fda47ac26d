package com.veltrix.config.storage;

import com.veltrix.config.catalog.StoreUnavailableException;
import java.util.function.Predicate;

/**
 * What the circuit breaker counts as a failure: the database did not answer (a transient failure
 * that outlived its retries). Refusals of the catalog and bugs are not the database's fault. Named
 * in application.yaml ({@code record-failure-predicate}).
 */
public class DatabaseUnavailable implements Predicate<Throwable> {

  @Override
  public boolean test(Throwable failure) {
    return failure instanceof StoreUnavailableException || TransientFailures.isTransient(failure);
  }
}
