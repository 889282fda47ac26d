package com.veltrix.config.catalog;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.springframework.stereotype.Component;
import org.springframework.util.unit.DataSize;

/**
 * The memory that heavy calls in flight may hold, as one semaphore counted in KiB. Adapters reserve
 * a call's worst case before they read its body or ask the database, and release it once the answer
 * is written ({@link Permit#close()}).
 */
@Component
public class CallCapacity {

  private final CapacityProperties properties;
  private final CatalogLimits limits;
  private final int totalKib;
  private final Semaphore kib;

  public CallCapacity(CapacityProperties properties, CatalogLimits limits, MeterRegistry meters) {
    this.properties = properties;
    this.limits = limits;
    long bytes =
        properties.heavyCallMemory().toBytes() > 0
            ? properties.heavyCallMemory().toBytes()
            : Runtime.getRuntime().maxMemory() / 4;
    this.totalKib = (int) Math.min(Integer.MAX_VALUE, bytes / 1024);
    this.kib = new Semaphore(totalKib, true);
    Gauge.builder(
            "veltrix.capacity.heavy.reserved.bytes",
            kib,
            s -> (totalKib - s.availablePermits()) * 1024.0)
        .description("memory reserved by heavy calls in flight")
        .register(meters);
    Gauge.builder("veltrix.capacity.heavy.bytes", () -> totalKib * 1024.0)
        .description("memory heavy calls in flight may reserve together")
        .register(meters);
  }

  /** A reservation; closing it twice is harmless. */
  public interface Permit extends AutoCloseable {
    @Override
    void close();

    /** Whether it holds memory (a call below the threshold reserves none). */
    default boolean reserved() {
      return true;
    }
  }

  private static final Permit NONE =
      new Permit() {
        @Override
        public void close() {}

        @Override
        public boolean reserved() {
          return false;
        }
      };

  /** Reserves the worst case of a read of up to {@code items} documents with payloads. */
  public Permit forDocuments(int items, String what) {
    return reserve(items * limits.maxPayloadSize().toBytes(), what);
  }

  /** Reserves the worst case of a batch whose body is {@code bodyBytes} long. */
  public Permit forBatch(long bodyBytes, String what) {
    return reserve(4 * bodyBytes, what);
  }

  /** The worst case of a batch body of unknown length: the batch limit. */
  public long largestBatchBody() {
    return limits.maxBatchSize().toBytes();
  }

  private Permit reserve(long bytes, String what) {
    if (bytes < properties.heavyCallThreshold().toBytes()) {
      return NONE;
    }
    int wanted = (int) Math.min(totalKib, (bytes + 1023) / 1024);
    boolean acquired;
    try {
      acquired = kib.tryAcquire(wanted, properties.queueFor().toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      acquired = false;
    }
    if (!acquired) {
      throw new OverloadedException(
          what
              + " may need up to "
              + DataSize.ofKilobytes(wanted).toMegabytes()
              + " MB; this instance has too many such calls in flight, retry shortly");
    }
    return new Permit() {
      private boolean open = true;

      @Override
      public synchronized void close() {
        if (open) {
          open = false;
          kib.release(wanted);
        }
      }
    };
  }
}
