package com.veltrix.config.health;

import com.veltrix.config.DaemonThreads;
import com.veltrix.config.storage.DatabaseProbe;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The readiness gate (health indicator {@code databaseStability}, in the readiness group only),
 * with hysteresis. It probes the database every {@code probe-interval} on a connection of its own.
 *
 * <ul>
 *   <li>NOT READY → READY once every probe has succeeded for {@code stable-for}; any failed probe
 *       in that window starts it again.
 *   <li>READY → NOT READY only once probes have been failing for {@code fail-after} without one
 *       success: a leader transition, a lost connection or one slow probe changes nothing.
 * </ul>
 *
 * Liveness never looks at the database, so a flapping database keeps pods out of rotation without
 * restarting them. On shutdown readiness goes DOWN first, before anything drains.
 */
@Component("databaseStability")
class DatabaseStabilityGate implements HealthIndicator, DisposableBean {

  private static final Logger log = LoggerFactory.getLogger(DatabaseStabilityGate.class);

  private final DatabaseProbe probe;
  private final ReadinessProperties properties;
  private final Clock clock;
  private final ScheduledExecutorService executor = DaemonThreads.scheduled("readiness-probe", 1);
  private volatile boolean ready;
  private volatile Instant stableSince;
  private volatile Instant failingSince;
  private volatile String lastFailure = "not probed yet";
  private volatile boolean closing;

  DatabaseStabilityGate(
      DatabaseProbe probe, ReadinessProperties properties, Clock clock, MeterRegistry meters) {
    this.probe = probe;
    this.properties = properties;
    this.clock = clock;
    Gauge.builder("veltrix.readiness.ready", this, g -> g.ready() ? 1 : 0)
        .description("1 while readiness is UP")
        .register(meters);
    Gauge.builder("veltrix.readiness.stable.seconds", this, DatabaseStabilityGate::stableSeconds)
        .description("how long the database has answered every probe")
        .register(meters);
    Gauge.builder("veltrix.readiness.failing.seconds", this, DatabaseStabilityGate::failingSeconds)
        .description("how long every probe has failed (0 while the database answers)")
        .register(meters);
    long interval = properties.probeInterval().toMillis();
    executor.scheduleWithFixedDelay(this::probeOnce, 0, interval, TimeUnit.MILLISECONDS);
  }

  void probeOnce() {
    if (closing) {
      return;
    }
    Instant now;
    try {
      probe.check(properties.probeTimeout());
      now = clock.instant();
      succeeded(now);
    } catch (Exception e) {
      now = clock.instant();
      failed(now, e);
    }
  }

  private void succeeded(Instant now) {
    if (failingSince != null && ready) {
      log.info(
          "Database answers again after {} ms of failed probes; readiness stayed UP",
          Duration.between(failingSince, now).toMillis());
    }
    failingSince = null;
    if (stableSince == null) {
      stableSince = now;
      log.info("Database answered; readiness UP after {} of stable probes", properties.stableFor());
    }
    if (!ready && !stableSince.plus(properties.stableFor()).isAfter(now)) {
      ready = true;
      log.info("Readiness UP: the database answered every probe for {}", properties.stableFor());
    }
  }

  private void failed(Instant now, Exception e) {
    lastFailure = now + " " + e.getClass().getSimpleName();
    if (failingSince == null) {
      failingSince = now;
      log.warn("Database probe failed ({}); readiness DOWN if it fails for {}", e, failAfter());
    }
    if (!ready) {
      stableSince = null; // the stable window starts again
    } else if (!failingSince.plus(properties.failAfter()).isAfter(now)) {
      ready = false;
      stableSince = null;
      log.warn(
          "Readiness DOWN: every database probe failed for {} (last: {})",
          failAfter(),
          e.toString());
    }
  }

  private String failAfter() {
    return properties.failAfter().toString();
  }

  boolean ready() {
    return !closing && ready;
  }

  private double stableSeconds() {
    Instant since = stableSince;
    return since == null ? 0 : Duration.between(since, clock.instant()).toMillis() / 1000.0;
  }

  private double failingSeconds() {
    Instant since = failingSince;
    return since == null ? 0 : Duration.between(since, clock.instant()).toMillis() / 1000.0;
  }

  /**
   * Details say which state the gate is in and since when; never exception text (the endpoint is
   * open without a token).
   */
  @Override
  public Health health() {
    if (closing) {
      return Health.outOfService().withDetail("state", "SHUTTING_DOWN").build();
    }
    Map<String, Object> details = new LinkedHashMap<>();
    Instant now = clock.instant();
    Instant since = stableSince;
    Instant failing = failingSince;
    details.put("stableFor", properties.stableFor().toString());
    details.put("failAfter", properties.failAfter().toString());
    if (ready) {
      details.put("state", failing == null ? "READY" : "READY_DATABASE_FAILING");
    } else {
      details.put("state", since == null ? "WAITING_FOR_DATABASE" : "STABILISING");
    }
    if (since != null) {
      details.put("stableSince", since.toString());
      Duration remaining = Duration.between(now, since.plus(properties.stableFor()));
      details.put("remaining", remaining.isNegative() ? "PT0S" : remaining.toString());
    }
    if (failing != null) {
      details.put("failingSince", failing.toString());
      details.put("lastFailure", lastFailure);
    }
    return (ready() ? Health.up() : Health.down()).withDetails(details).build();
  }

  /** Shutdown begins: readiness DOWN before the servers drain and the pool closes. */
  @EventListener(ContextClosedEvent.class)
  void shuttingDown() {
    closing = true;
  }

  @Override
  public void destroy() {
    executor.shutdownNow();
    probe.close();
  }
}
