package com.veltrix.config.storage;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How database calls are bounded and retried ({@code veltrix.resilience.*}). The retry itself is
 * Resilience4j's ({@code resilience4j.retry.instances.database}); these set its waits. The deadline
 * is the call's ({@link com.veltrix.config.catalog.RequestBudget}).
 *
 * @param initialBackoff the cap of the first backoff; each retry doubles it (full jitter: the
 *     actual pause is uniformly random below the cap), and no pause runs past the deadline
 * @param maxBackoff the largest backoff cap
 * @param breakerMinBudget a call that gave the database less time than this does not count against
 *     it when it times out: a client sending 2 ms deadlines must not open the breaker for everyone
 */
@ConfigurationProperties("veltrix.resilience")
public record RetryProperties(
    @DefaultValue("2ms") Duration initialBackoff,
    @DefaultValue("20ms") Duration maxBackoff,
    @DefaultValue("50ms") Duration breakerMinBudget) {}
