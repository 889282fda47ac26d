package com.veltrix.config.catalog;

/** A compare-and-set failed: If-Match named another version, or If-None-Match: * found one. */
public final class PreconditionFailedException extends CatalogException {

  private final long currentVersion;

  public PreconditionFailedException(String message, long currentVersion) {
    super(message);
    this.currentVersion = currentVersion;
  }

  /** The document's current version, 0 when it does not exist. */
  public long currentVersion() {
    return currentVersion;
  }
}
