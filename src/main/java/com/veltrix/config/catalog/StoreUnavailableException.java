package com.veltrix.config.catalog;

/**
 * The database could not answer within the request's budget (after retries), or the circuit around
 * it is open. Not the client's fault and not a bug: adapters answer 503 / UNAVAILABLE and tell the
 * client when to try again.
 */
public class StoreUnavailableException extends RuntimeException {

  /**
   * What a client is told where the database did not fail the call ({@link #queuedInThisPod()}):
   * not "the database is unavailable", which sends its operators to the database.
   */
  public static final String QUEUED_ANSWER =
      "the call's deadline passed while it waited in this instance (behind other calls, for a"
          + " database connection or the revision row) or was too short for its work; the"
          + " database did not fail it; retry shortly";

  private final boolean circuitOpen;
  private final boolean databaseAtFault;

  /** The database itself did not answer (what the circuit breaker counts). */
  public StoreUnavailableException(String message, Throwable cause) {
    this(message, cause, false, true);
  }

  /**
   * @param circuitOpen refused without trying, because the circuit is open
   * @param databaseAtFault whether the database failed, rather than the call running out of its own
   *     deadline, writers contending, or a queue inside this pod
   */
  public StoreUnavailableException(
      String message, Throwable cause, boolean circuitOpen, boolean databaseAtFault) {
    super(message, cause);
    this.circuitOpen = circuitOpen;
    this.databaseAtFault = databaseAtFault;
  }

  /**
   * Refused without trying, because the circuit is open: adapters log these quietly (the breaker's
   * state change was logged once) instead of one error line per request.
   */
  public boolean circuitOpen() {
    return circuitOpen;
  }

  public boolean databaseAtFault() {
    return databaseAtFault;
  }

  /**
   * The database did not fail the call: it spent its deadline in this pod (queued, contending), or
   * its deadline was too short for its work.
   */
  public boolean queuedInThisPod() {
    return !databaseAtFault && !circuitOpen;
  }
}
