package com.veltrix.config.catalog;

/** The document (or the version asked for) does not exist. */
public final class DocumentNotFoundException extends CatalogException {

  public DocumentNotFoundException(String message) {
    super(message);
  }

  public static DocumentNotFoundException of(DocumentKey key) {
    return new DocumentNotFoundException(key + " does not exist");
  }
}
