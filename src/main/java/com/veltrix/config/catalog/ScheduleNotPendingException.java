package com.veltrix.config.catalog;

/** A schedule that is no longer PENDING (or is being applied) cannot be cancelled. */
public final class ScheduleNotPendingException extends CatalogException {

  public ScheduleNotPendingException(String message) {
    super(message);
  }
}
