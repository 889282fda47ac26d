package com.veltrix.config.catalog.write;

import java.time.Duration;
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
 * @param groupLinger the longest the committer waits, after a group of several small writes, for
 *     the writers it has just answered to send their next write, so that they join the next group
 *     instead of the one after it ({@link WriteGroups}); never more than half the last group's
 *     transaction, never past a waiting request's deadline less 50 ms; {@code 0} does not wait
 */
@ConfigurationProperties("veltrix.writes")
public record WriteProperties(
    @DefaultValue("true") boolean groupCommit,
    @DefaultValue("1000") int maxGroupWrites,
    @DefaultValue("2ms") Duration groupLinger) {}
