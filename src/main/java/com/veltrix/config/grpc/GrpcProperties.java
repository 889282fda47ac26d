package com.veltrix.config.grpc;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The gRPC adapter's own settings ({@code veltrix.grpc.*}); transport settings (port, keepalive,
 * maximum connection age, message size) are the starter's {@code grpc.server.*}.
 *
 * @param manifestChunk entries per ListActive message
 * @param watchPollInterval how often the current revision is polled for live watches (one query per
 *     pod, shared by every watch)
 * @param watchProgressInterval an idle watch receives a PROGRESS event this often
 * @param healthInterval how often the gRPC health service copies the readiness group
 * @param answerDeadline how long a large {@code GetConfigs} answer waits for its consumer to take
 *     it once it is ready; then the call ends as at a deadline ({@link AnswerDeadlines})
 * @param requestIdleTimeout a request message of which no byte has arrived this long ends its call
 *     ({@link RequestArrivals})
 * @param arrivingRequestMemory the most that request messages still arriving may hold together
 *     ({@link RequestArrivals})
 */
@ConfigurationProperties("veltrix.grpc")
public record GrpcProperties(
    @DefaultValue("1000") int manifestChunk,
    @DefaultValue("100ms") Duration watchPollInterval,
    @DefaultValue("5s") Duration watchProgressInterval,
    @DefaultValue("1s") Duration healthInterval,
    @DefaultValue("30s") Duration answerDeadline,
    @DefaultValue("10s") Duration requestIdleTimeout,
    @DefaultValue("64MB") DataSize arrivingRequestMemory) {}
