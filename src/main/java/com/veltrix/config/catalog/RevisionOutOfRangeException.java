package com.veltrix.config.catalog;

/** A revision beyond the current one: it has not happened yet. */
public final class RevisionOutOfRangeException extends CatalogException {

  private final String parameter;

  public RevisionOutOfRangeException(String parameter, long requested, long current) {
    super(
        parameter
            + " "
            + requested
            + " is beyond the current revision "
            + current
            + " (not yet written)");
    this.parameter = parameter;
  }

  public String parameter() {
    return parameter;
  }
}
