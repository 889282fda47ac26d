package com.veltrix.config.catalog;

/**
 * A revision older than the oldest one still retained (history is pruned after {@code
 * veltrix.history.retain-for}): its state can no longer be read. The consumer re-lists at the
 * current revision and follows changes from there.
 */
public final class RevisionNotRetainedException extends CatalogException {

  private final String parameter;
  private final long oldestRetained;

  public RevisionNotRetainedException(String parameter, long requested, long oldestRetained) {
    super(
        parameter
            + " "
            + requested
            + " is older than the oldest retained revision "
            + oldestRetained
            + "; list again at the current revision");
    this.parameter = parameter;
    this.oldestRetained = oldestRetained;
  }

  public String parameter() {
    return parameter;
  }

  public long oldestRetained() {
    return oldestRetained;
  }
}
