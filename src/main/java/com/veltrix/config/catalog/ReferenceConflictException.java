package com.veltrix.config.catalog;

import java.util.List;

/**
 * References would break: a payload names documents that are not ACTIVE ({@code missing}), or a
 * retire targets a document that ACTIVE documents still reference ({@code referrers}).
 */
public final class ReferenceConflictException extends CatalogException {

  private final DocumentKey subject;
  private final List<DocumentKey> missing;
  private final List<DocumentKey> referrers;

  private ReferenceConflictException(
      String message, DocumentKey subject, List<DocumentKey> missing, List<DocumentKey> referrers) {
    super(message);
    this.subject = subject;
    this.missing = List.copyOf(missing);
    this.referrers = List.copyOf(referrers);
  }

  public static ReferenceConflictException dangling(
      DocumentKey subject, List<DocumentKey> missing) {
    return new ReferenceConflictException(
        subject + " references documents that are not ACTIVE: " + missing,
        subject,
        missing,
        List.of());
  }

  public static ReferenceConflictException stillReferenced(
      DocumentKey subject, List<DocumentKey> referrers) {
    return new ReferenceConflictException(
        subject + " is still referenced by ACTIVE documents: " + referrers,
        subject,
        List.of(),
        referrers);
  }

  public DocumentKey subject() {
    return subject;
  }

  public List<DocumentKey> missing() {
    return missing;
  }

  public List<DocumentKey> referrers() {
    return referrers;
  }
}
