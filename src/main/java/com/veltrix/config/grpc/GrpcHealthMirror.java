package com.veltrix.config.grpc;

import com.veltrix.config.DaemonThreads;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.actuate.health.HealthComponent;
import org.springframework.boot.actuate.health.HealthEndpoint;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * {@code grpc.health.v1} mirrors the Actuator readiness group: {@code ""} and {@code
 * veltrix.config.v1.ConfigService} are SERVING only while readiness is UP, NOT_SERVING otherwise
 * (and from the moment shutdown begins).
 */
@Component
class GrpcHealthMirror implements DisposableBean {

  static final String SERVICE = ConfigServiceGrpc.SERVICE_NAME;

  private final HealthStatusManager health;
  private final HealthEndpoint endpoint;
  private final GrpcProperties properties;
  private final ScheduledExecutorService executor = DaemonThreads.scheduled("grpc-health", 1);
  private volatile boolean closing;

  GrpcHealthMirror(HealthStatusManager health, HealthEndpoint endpoint, GrpcProperties properties) {
    this.health = health;
    this.endpoint = endpoint;
    this.properties = properties;
    set(ServingStatus.NOT_SERVING);
  }

  @EventListener(ApplicationReadyEvent.class)
  void start() {
    long interval = properties.healthInterval().toMillis();
    executor.scheduleWithFixedDelay(this::mirror, 0, interval, TimeUnit.MILLISECONDS);
  }

  @EventListener(ContextClosedEvent.class)
  void stop() {
    closing = true;
    set(ServingStatus.NOT_SERVING);
  }

  void mirror() {
    if (closing) {
      return;
    }
    HealthComponent readiness = endpoint.healthForPath("readiness");
    boolean up =
        readiness != null
            && org.springframework.boot.actuate.health.Status.UP.equals(readiness.getStatus());
    set(up ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }

  private void set(ServingStatus status) {
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
    health.setStatus(SERVICE, status);
  }

  @Override
  public void destroy() {
    executor.shutdownNow();
  }
}
