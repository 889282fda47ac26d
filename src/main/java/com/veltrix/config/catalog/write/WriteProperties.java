package com.veltrix.config.catalog.write;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How this pod commits writes ({@code veltrix.writes.*}).
 *
 * @param groupCommit commit the requests that are waiting together, in one transaction at one
 *     revision; {@code false} commits them one by one (for comparison: the writes per second of the
 *     cluster are then bounded by the revision row's round trips)
 * @param maxGroupWrites the most document writes in one group (a single batch larger than this is
 *     committed alone); the group's payloads are also kept within {@code
 *     veltrix.limits.max-batch-size}
 */
@ConfigurationProperties("veltrix.writes")
public record WriteProperties(
    @DefaultValue("true") boolean groupCommit, @DefaultValue("1000") int maxGroupWrites) {}
