package com.veltrix.config.catalog;

/**
 * The database could not answer within the request's budget (after retries), or the circuit around
 * it is open. Not the client's fault and not a bug: adapters answer 503 / UNAVAILABLE and tell the
 * client when to try again.
 */
public class StoreUnavailableException extends RuntimeException {

  private final boolean circuitOpen;

  public StoreUnavailableException(String message, Throwable cause) {
    this(message, cause, false);
  }

  public StoreUnavailableException(String message, Throwable cause, boolean circuitOpen) {
    super(message, cause);
    this.circuitOpen = circuitOpen;
  }

  /**
   * Refused without trying, because the circuit is open: adapters log these quietly (the breaker's
   * state change was logged once) instead of one error line per request.
   */
  public boolean circuitOpen() {
    return circuitOpen;
  }
}
