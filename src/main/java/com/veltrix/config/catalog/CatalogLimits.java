package com.veltrix.config.catalog;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Size limits of the catalog ({@code veltrix.limits.*}).
 *
 * @param maxPayloadSize largest payload, measured on its canonical JSON (a PUT body larger than
 *     this is refused before it is parsed)
 * @param maxDepth deepest nesting of objects and arrays inside one payload
 * @param maxBatchWrites most writes in one batch
 * @param maxBatchSize largest batch request body
 * @param maxPageSize largest {@code limit} of a listing, history or change page
 * @param defaultPageSize {@code limit} when none is given
 */
@ConfigurationProperties("veltrix.limits")
public record CatalogLimits(
    @DefaultValue("64KB") DataSize maxPayloadSize,
    @DefaultValue("32") int maxDepth,
    @DefaultValue("1000") int maxBatchWrites,
    @DefaultValue("8MB") DataSize maxBatchSize,
    @DefaultValue("1000") int maxPageSize,
    @DefaultValue("100") int defaultPageSize) {

  /** The defaults of design.md, for tests and tools. */
  public static CatalogLimits defaults() {
    return new CatalogLimits(
        DataSize.ofKilobytes(64), 32, 1000, DataSize.ofMegabytes(8), 1000, 100);
  }
}
