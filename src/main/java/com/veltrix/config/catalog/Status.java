package com.veltrix.config.catalog;

/** A version is ACTIVE, or RETIRED: a tombstone that keeps the history. */
public enum Status {
  ACTIVE,
  RETIRED
}
