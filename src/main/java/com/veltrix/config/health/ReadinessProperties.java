package com.veltrix.config.health;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The readiness gate ({@code veltrix.readiness.*}).
 *
 * @param stableFor readiness is UP only after the database has answered every probe for this long
 * @param probeInterval how often the database is probed
 * @param probeTimeout how long one probe may take before it counts as failed
 */
@ConfigurationProperties("veltrix.readiness")
public record ReadinessProperties(
    @DefaultValue("30s") Duration stableFor,
    @DefaultValue("1s") Duration probeInterval,
    @DefaultValue("500ms") Duration probeTimeout) {}
