package com.veltrix.config.catalog;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * What one pod takes on at once ({@code veltrix.capacity.*}); beyond it calls are refused with 429
 * / RESOURCE_EXHAUSTED instead of running the pod out of memory.
 *
 * @param heavyCallMemory how much memory calls in flight may reserve together; {@code 0} means a
 *     quarter of the JVM's maximum heap. A call reserves its worst case for its whole duration:
 *     items asked for × the largest payload for listings, histories and GetConfigs, four times the
 *     body for batches (the parsed JSON tree)
 * @param heavyCallThreshold calls whose worst case is below this reserve nothing (point reads,
 *     small batches)
 * @param queueFor how long a heavy call may wait for memory to be released before it is refused
 * @param maxWatches open WatchChanges streams per pod
 */
@ConfigurationProperties("veltrix.capacity")
public record CapacityProperties(
    @DefaultValue("0") DataSize heavyCallMemory,
    @DefaultValue("1MB") DataSize heavyCallThreshold,
    @DefaultValue("100ms") Duration queueFor,
    @DefaultValue("1000") int maxWatches) {}
