package com.veltrix.config.catalog;

/**
 * This pod is at one of its caps (memory held by heavy calls in flight, open watches): try again in
 * a moment, or on another pod. Adapters answer 429 + Retry-After / RESOURCE_EXHAUSTED + RetryInfo.
 * Refusing is what keeps the pod alive: the alternative is an out-of-memory restart that ends every
 * watch it serves.
 */
public final class OverloadedException extends CatalogException {

  public OverloadedException(String message) {
    super(message);
  }
}
