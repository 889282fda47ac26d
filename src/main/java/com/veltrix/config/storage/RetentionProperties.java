package com.veltrix.config.storage;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How long history and idempotency records are kept ({@code veltrix.history.*}, {@code
 * veltrix.idempotency.*}; see {@link HistoryRetention}).
 */
@ConfigurationProperties("veltrix")
public record RetentionProperties(
    @DefaultValue History history, @DefaultValue Idempotency idempotency) {

  /**
   * @param retainFor versions superseded longer ago than this are pruned (the current version of
   *     every document is kept forever); reads, feeds and manifests at a revision older than the
   *     oldest retained one answer 410 / FAILED_PRECONDITION
   * @param pruneEvery how often each pod looks for work (every pod may; they agree through the
   *     database)
   * @param grace how long after the horizon moves pruning waits, so that a read that saw the old
   *     horizon (a manifest stream, a page in flight) does not lose a row it needs
   * @param batch rows deleted per transaction
   */
  public record History(
      @DefaultValue("30d") Duration retainFor,
      @DefaultValue("1m") Duration pruneEvery,
      @DefaultValue("10m") Duration grace,
      @DefaultValue("500") int batch) {}

  /**
   * @param retainFor idempotency records older than this are deleted: a replay after it is a new
   *     request
   */
  public record Idempotency(@DefaultValue("24h") Duration retainFor) {}
}
