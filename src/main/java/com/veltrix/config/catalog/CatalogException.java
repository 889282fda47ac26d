package com.veltrix.config.catalog;

/**
 * A request the catalog refuses: the client's to fix, never a server fault. Each adapter maps the
 * subclasses to its own status codes in one place. No stack trace is captured: these are answers,
 * not bugs.
 */
public abstract sealed class CatalogException extends RuntimeException
    permits InvalidInputException,
        DocumentNotFoundException,
        PreconditionFailedException,
        ReferenceConflictException,
        PayloadTooLargeException,
        IdempotencyKeyReusedException,
        RevisionOutOfRangeException,
        RevisionNotRetainedException,
        OverloadedException,
        ScheduleNotPendingException {

  protected CatalogException(String message) {
    super(message, null, false, false);
  }
}
