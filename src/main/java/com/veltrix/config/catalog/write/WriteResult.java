package com.veltrix.config.catalog.write;

import com.veltrix.config.catalog.Document;

/** A write's document: the new version, or the current one when the write was a no-op. */
public record WriteResult(Document document, boolean unchanged) {

  /** Whether this write created the document (its first version). */
  public boolean created() {
    return !unchanged && document.version() == 1;
  }
}
