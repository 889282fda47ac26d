package com.veltrix.config.catalog;

/** A payload, a batch or a request body is over its configured limit. */
public final class PayloadTooLargeException extends CatalogException {

  public PayloadTooLargeException(String message) {
    super(message);
  }
}
