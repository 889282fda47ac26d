package com.veltrix.config.health;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The readiness gate ({@code veltrix.readiness.*}). All pods see the same database, so readiness
 * moves every pod in or out of the load balancers at once: it must ignore a blip that retries
 * absorb, and come back only once the database has been steady.
 *
 * @param stableFor readiness goes UP only after the database has answered every probe for this long
 *     (at start, and after an outage)
 * @param failAfter readiness goes DOWN only once the database has been failing every probe for this
 *     long; a leader transition (~150 ms) never takes a pod out of rotation
 * @param probeInterval how often the database is probed
 * @param probeTimeout how long one probe may take before it counts as failed
 */
@ConfigurationProperties("veltrix.readiness")
public record ReadinessProperties(
    @DefaultValue("30s") Duration stableFor,
    @DefaultValue("3s") Duration failAfter,
    @DefaultValue("1s") Duration probeInterval,
    @DefaultValue("500ms") Duration probeTimeout) {}
