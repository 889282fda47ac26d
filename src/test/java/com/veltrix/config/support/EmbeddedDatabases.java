package com.veltrix.config.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * How this project creates every embedded PostgreSQL: the tests', the quick start's, the fault
 * suite's and the benchmarks'.
 */
public final class EmbeddedDatabases {

  private EmbeddedDatabases() {}

  /**
   * A builder whose new cluster sorts and compares text by its bytes ({@code initdb
   * --lc-collate=C}), as CockroachDB compares {@code STRING}s and as the service orders the events
   * of a revision in memory. Left to the machine's locale, initdb takes {@code LANG}: {@code
   * en_US.UTF-8} orders {@code "a"} before {@code "B"}, and even libc's {@code C.UTF-8} is a locale
   * to PostgreSQL before 17 (every comparison through {@code strcoll}, slower than {@code memcmp}).
   * An existing data directory keeps the collation it was created with.
   */
  public static EmbeddedPostgres.Builder builder() {
    return EmbeddedPostgres.builder().setLocaleConfig("lc-collate", "C");
  }
}
