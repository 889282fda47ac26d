package com.veltrix.config.catalog.schedule;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Scheduled changes ({@code veltrix.schedules.*}).
 *
 * @param pollInterval how often each pod looks for due schedules (every pod does; the database
 *     makes sure each is applied once). A due schedule is applied within about this plus one write.
 * @param maxDescription longest description, in characters
 * @param instanceName how this pod signs the schedules it applies ({@code finishedBy}); empty: the
 *     host name (the pod's name on Kubernetes) and the process id
 */
@ConfigurationProperties("veltrix.schedules")
public record ScheduleProperties(
    @DefaultValue("200ms") Duration pollInterval,
    @DefaultValue("1000") int maxDescription,
    @DefaultValue("") String instanceName) {}
