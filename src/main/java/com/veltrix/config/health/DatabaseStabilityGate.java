package com.veltrix.config.health;

import com.veltrix.config.storage.DatabaseProbe;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
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
 * The readiness gate (health indicator {@code databaseStability}, in the readiness group only). It
 * probes the database every {@code probe-interval}; readiness is UP only once every probe has
 * succeeded for {@code stable-for}, goes DOWN at the first failed probe, and the window starts
 * again. A flapping database therefore keeps the pod out of rotation without ever restarting it:
 * liveness never looks at the database. On shutdown it goes DOWN first, before anything drains.
 */
@Component("databaseStability")
class DatabaseStabilityGate implements HealthIndicator, DisposableBean {

  private static final Logger log = LoggerFactory.getLogger(DatabaseStabilityGate.class);

  private final DatabaseProbe probe;
  private final ReadinessProperties properties;
  private final Clock clock;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "readiness-probe");
            t.setDaemon(true);
            return t;
          });
  private volatile Instant stableSince;
  private volatile String lastFailure = "not probed yet";
  private volatile boolean closing;

  DatabaseStabilityGate(
      DatabaseProbe probe, ReadinessProperties properties, Clock clock, MeterRegistry meters) {
    this.probe = probe;
    this.properties = properties;
    this.clock = clock;
    Gauge.builder("veltrix.readiness.ready", this, g -> g.ready() ? 1 : 0)
        .description("1 while the database stability window has been open for stable-for")
        .register(meters);
    Gauge.builder("veltrix.readiness.stable.seconds", this, DatabaseStabilityGate::stableSeconds)
        .description("how long the database has answered every probe")
        .register(meters);
    long interval = properties.probeInterval().toMillis();
    executor.scheduleWithFixedDelay(this::probeOnce, 0, interval, TimeUnit.MILLISECONDS);
  }

  void probeOnce() {
    if (closing) {
      return;
    }
    try {
      probe.check(properties.probeTimeout());
      if (stableSince == null) {
        stableSince = clock.instant();
        log.info(
            "Database answered; readiness UP after {} of stable probes", properties.stableFor());
      }
    } catch (Exception e) {
      if (stableSince != null) {
        log.warn("Database probe failed, readiness DOWN: {}", e.toString());
      }
      stableSince = null;
      lastFailure = clock.instant() + " " + e.getClass().getSimpleName() + ": " + e.getMessage();
    }
  }

  boolean ready() {
    Instant since = stableSince;
    return !closing
        && since != null
        && !since.plus(properties.stableFor()).isAfter(clock.instant());
  }

  private double stableSeconds() {
    Instant since = stableSince;
    return since == null ? 0 : Duration.between(since, clock.instant()).toMillis() / 1000.0;
  }

  @Override
  public Health health() {
    Instant since = stableSince;
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("stableFor", properties.stableFor().toString());
    if (closing) {
      return Health.outOfService().withDetail("reason", "shutting down").build();
    }
    if (since == null) {
      details.put("lastFailure", lastFailure);
      return Health.down().withDetails(details).build();
    }
    Duration remaining = Duration.between(clock.instant(), since.plus(properties.stableFor()));
    details.put("stableSince", since.toString());
    details.put("remaining", remaining.isNegative() ? "PT0S" : remaining.toString());
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
  }
}
