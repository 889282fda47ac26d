package com.veltrix.config.catalog;

/** A committed change: the version a revision wrote. Every version is one change event. */
public record ChangeEvent(
    long revision, Kind kind, String id, long version, Type type, String contentHash) {

  /** UPSERTED for an ACTIVE version, RETIRED for a tombstone. */
  public enum Type {
    UPSERTED,
    RETIRED;

    public static Type of(Status status) {
      return status == Status.ACTIVE ? UPSERTED : RETIRED;
    }
  }

  public static ChangeEvent of(Document version) {
    return new ChangeEvent(
        version.revision(),
        version.kind(),
        version.id(),
        version.version(),
        Type.of(version.status()),
        version.contentHash());
  }
}
