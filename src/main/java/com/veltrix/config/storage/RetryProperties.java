package com.veltrix.config.storage;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How database calls are retried ({@code veltrix.resilience.*}).
 *
 * @param requestBudget how long one REST call may spend on a database operation, retries included;
 *     well inside the 300 ms p99.9 target
 * @param initialBackoff the cap of the first backoff; each retry doubles it (full jitter: the
 *     actual pause is uniformly random below the cap)
 * @param maxBackoff the largest backoff cap
 */
@ConfigurationProperties("veltrix.resilience")
public record RetryProperties(
    @DefaultValue("250ms") Duration requestBudget,
    @DefaultValue("2ms") Duration initialBackoff,
    @DefaultValue("20ms") Duration maxBackoff) {}
