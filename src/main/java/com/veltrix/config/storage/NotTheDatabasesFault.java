package com.veltrix.config.storage;

import com.veltrix.config.catalog.StoreUnavailableException;
import java.util.function.Predicate;

/**
 * What the circuit breaker ignores (counts neither as a failure nor as a success): a call that ran
 * out of its own deadline, writers contending for the revision row past a deadline, or a queue
 * inside this pod. A careless client sending 2 ms deadlines must not open the breaker for everyone.
 * Named in application.yaml ({@code ignore-exception-predicate}).
 */
public class NotTheDatabasesFault implements Predicate<Throwable> {

  @Override
  public boolean test(Throwable failure) {
    return failure instanceof StoreUnavailableException unavailable
        && !unavailable.databaseAtFault();
  }
}
