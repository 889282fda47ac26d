package com.veltrix.config.catalog;

/**
 * The database could not answer within the request's budget (after retries), or the circuit around
 * it is open. Not the client's fault and not a bug: adapters answer 503 / UNAVAILABLE and tell the
 * client when to try again.
 */
public class StoreUnavailableException extends RuntimeException {

  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
