package com.veltrix.config.grpc;

import com.veltrix.config.DaemonThreads;
import com.veltrix.config.catalog.OverloadedException;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import io.grpc.Context;
import io.grpc.InternalStatus;
import io.grpc.Metadata;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import net.devh.boot.grpc.server.config.GrpcServerProperties;
import net.devh.boot.grpc.server.interceptor.GrpcGlobalServerInterceptor;
import net.devh.boot.grpc.server.serverfactory.GrpcServerConfigurer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.util.unit.DataSize;

/**
 * Bounds what request messages still arriving hold of the pod. gRPC's transport keeps every byte of
 * a message that has begun to arrive until its last byte is there (in direct memory, about twice
 * the bytes: each received frame keeps its read buffer), and nothing in gRPC ends a message that
 * stops arriving while its connection lives: a producer whose process is stopped is found by
 * keepalive after up to 80 s, one that stops sending while it answers pings only at the
 * connection's maximum age. Forty PutConfigs stalled 7 MB into 8 MB batches exhausted a 512 MiB
 * pod's direct memory, and the transport then closed connections (GOAWAY, INTERNAL_ERROR) with
 * every call on them.
 *
 * <ul>
 *   <li>A message of which no byte has arrived for {@code veltrix.grpc.request-idle-timeout} (10 s,
 *       as Tomcat's read timeout for a REST body) ends its call as a deadline would: gRPC resets
 *       the stream and frees what it held. A slow message that keeps arriving is not ended.
 *   <li>The bytes of messages still arriving stay under {@code
 *       veltrix.grpc.arriving-request-memory} (64 MB): a PutConfigs that starts when less than the
 *       largest message ({@code grpc.server.max-inbound-message-size}) is left is refused at once,
 *       RESOURCE_EXHAUSTED with a RetryInfo as at any other cap; a message whose bytes would still
 *       go beyond the cap (several started together) is refused RESOURCE_EXHAUSTED too.
 * </ul>
 *
 * <p>A message over the cap is refused inside gRPC's deframer (RESOURCE_EXHAUSTED, never
 * processed); an idle one is ended from the sweeper's thread through the call's context, which
 * resets the stream (the producer, stalled, sees CANCELLED).
 *
 * <p>Once a message has arrived whole it leaves this count; a PutConfigs then reserves its batch in
 * {@link com.veltrix.config.catalog.CallCapacity} before it is processed.
 */
@GrpcGlobalServerInterceptor
class RequestArrivals extends ServerStreamTracer.Factory
    implements ServerInterceptor, GrpcServerConfigurer, DisposableBean {

  private static final String PUT_CONFIGS =
      ConfigServiceGrpc.getPutConfigsMethod().getFullMethodName();

  private static final Logger log = LoggerFactory.getLogger(RequestArrivals.class);

  private final long idleNanos;
  private final long capBytes;
  private final long largestMessage;
  private final long admitBelow;
  private final AtomicLong arriving = new AtomicLong();
  private final Set<Arrival> incomplete = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService sweeper = DaemonThreads.scheduled("request-arrivals", 1);

  RequestArrivals(GrpcProperties properties, GrpcServerProperties server, MeterRegistry meters) {
    this.idleNanos = properties.requestIdleTimeout().toNanos();
    this.capBytes = properties.arrivingRequestMemory().toBytes();
    DataSize maxInbound = server.getMaxInboundMessageSize();
    this.largestMessage = maxInbound != null ? maxInbound.toBytes() : 4 << 20;
    this.admitBelow = Math.max(0, capBytes - largestMessage); // one message always may arrive
    long every = Math.max(TimeUnit.MILLISECONDS.toNanos(100), idleNanos / 4);
    sweeper.scheduleWithFixedDelay(this::endIdle, every, every, TimeUnit.NANOSECONDS);
    Gauge.builder("veltrix.grpc.requests.arriving.bytes", arriving, AtomicLong::get)
        .description("bytes of gRPC request messages that have begun to arrive and not ended")
        .register(meters);
  }

  @Override
  public void accept(ServerBuilder<?> server) {
    server.addStreamTracerFactory(this);
  }

  @Override
  public void destroy() {
    sweeper.shutdownNow();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    long now = arriving.get();
    if (PUT_CONFIGS.equals(call.getMethodDescriptor().getFullMethodName()) && now > admitBelow) {
      throw new OverloadedException(
          "this instance is receiving "
              + DataSize.ofBytes(now).toMegabytes()
              + " MB of requests that have not arrived whole (veltrix.grpc.arriving-request-memory"
              + " is "
              + DataSize.ofBytes(capBytes).toMegabytes()
              + " MB, and a batch may be "
              + DataSize.ofBytes(largestMessage).toMegabytes()
              + " MB); retry shortly");
    }
    return next.startCall(call, headers);
  }

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    return new Arrival(fullMethodName);
  }

  private void endIdle() {
    long now = System.nanoTime();
    for (Arrival arrival : incomplete) {
      if (now - arrival.lastByteNanos > idleNanos) {
        arrival.end(
            "no byte of it arrived for "
                + TimeUnit.NANOSECONDS.toMillis(now - arrival.lastByteNanos)
                + " ms (veltrix.grpc.request-idle-timeout)");
      }
    }
  }

  /**
   * One call's request messages, counted from a message's header to its last byte (on the call's
   * transport thread; the sweeper may end it from its own).
   */
  private final class Arrival extends ServerStreamTracer {
    private final String method;
    private volatile Context.CancellableContext call;
    private volatile long lastByteNanos;
    private long bytes;
    private boolean ended;

    Arrival(String method) {
      this.method = method;
    }

    @Override
    public Context filterContext(Context context) {
      Context.CancellableContext cancellable = context.withCancellation();
      call = cancellable;
      return cancellable;
    }

    @Override
    public void inboundMessage(int seqNo) {
      lastByteNanos = System.nanoTime();
      incomplete.add(this);
    }

    /**
     * Called by gRPC's deframer as it takes a message's bytes. Over the cap, the exception is
     * thrown into the deframer as its own refusal of a message over the size limit is: the deframer
     * stops at once, the message is never handed to the service (even if this read brought its last
     * byte), and the producer is answered RESOURCE_EXHAUSTED with the description.
     */
    @Override
    public synchronized void inboundWireSize(long more) {
      lastByteNanos = System.nanoTime();
      bytes += more;
      if (arriving.addAndGet(more) > capBytes && !ended) {
        ended = true;
        String what =
            describe(
                "the requests arriving at this instance would hold more than "
                    + DataSize.ofBytes(capBytes).toMegabytes()
                    + " MB (veltrix.grpc.arriving-request-memory)");
        log.warn(what);
        arrived();
        // without a stack trace: gRPC logs what its deframer is thrown, and this is not a bug
        throw InternalStatus.asRuntimeException(
            Status.RESOURCE_EXHAUSTED.withDescription(what + "; retry shortly"), null, false);
      }
    }

    @Override
    public void inboundMessageRead(int seqNo, long wireSize, long size) {
      arrived();
    }

    @Override
    public void streamClosed(Status status) {
      arrived();
    }

    private synchronized void arrived() {
      incomplete.remove(this);
      arriving.addAndGet(-bytes);
      bytes = 0;
    }

    private String describe(String why) {
      return "a "
          + method.substring(method.lastIndexOf('/') + 1)
          + " request had sent "
          + bytes
          + " bytes and "
          + why
          + "; its call is ended";
    }

    /** Ends the call from another thread: gRPC resets its stream (the producer sees CANCELLED). */
    synchronized void end(String why) {
      if (ended) {
        return;
      }
      ended = true;
      String what = describe(why);
      log.warn(what);
      Context.CancellableContext cancellable = call;
      if (cancellable != null) {
        cancellable.cancel(new TimeoutException(what)); // gRPC resets the stream: its bytes go
      }
      arrived();
    }
  }
}
