package com.veltrix.config.catalog;

/** An idempotency key that was first used for a different request. */
public final class IdempotencyKeyReusedException extends CatalogException {

  public IdempotencyKeyReusedException(String key) {
    super("Idempotency-Key '" + key + "' was already used for a different request");
  }
}
