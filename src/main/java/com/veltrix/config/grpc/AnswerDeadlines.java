package com.veltrix.config.grpc;

import com.veltrix.config.catalog.CallCapacity;
import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerBuilder;
import io.grpc.ServerStreamTracer;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.devh.boot.grpc.server.serverfactory.GrpcServerConfigurer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * A large {@code GetConfigs} answer that its consumer has not taken within {@code
 * veltrix.grpc.answer-deadline} (30 s) of being handed to the transport ends its call as a deadline
 * would: gRPC resets the stream, which frees what the transport still holds of it. An answer of up
 * to 1,000 documents is one message of up to 64 MiB, serialised into the transport's buffers at
 * once and sent as fast as the consumer takes it; a consumer that stops taking it while its process
 * lives (it answers keepalive pings) left it there until the connection's maximum age, and nine
 * such consumers exhausted a 512 MiB pod's direct memory, after which every large answer failed.
 * Until the call ends, its reservation ({@link CallCapacity}) stays taken: stalled answers count
 * against the pod's memory for heavy calls.
 *
 * <p>A call's cancellation is the server's to trigger only through its context: a {@link
 * ServerStreamTracer} puts a cancellable context under each {@code GetConfigs} call before
 * interceptors and handlers run, and cancelling it with a {@link TimeoutException} is what a
 * deadline does (gRPC's server resets the stream of a call whose context ends with
 * DEADLINE_EXCEEDED). Small answers, which HTTP/2's window takes at once, start no clock.
 */
@Component
class AnswerDeadlines extends ServerStreamTracer.Factory implements GrpcServerConfigurer {

  private static final Context.Key<Context.CancellableContext> CALL =
      Context.key("veltrix.get-configs");

  private static final String GET_CONFIGS =
      ConfigServiceGrpc.getGetConfigsMethod().getFullMethodName();

  private static final Logger log = LoggerFactory.getLogger(AnswerDeadlines.class);

  private static final ServerStreamTracer UNTOUCHED = new ServerStreamTracer() {};

  private final long deadlineNanos;
  private final ScheduledThreadPoolExecutor clocks;

  AnswerDeadlines(GrpcProperties properties) {
    this.deadlineNanos = properties.answerDeadline().toNanos();
    this.clocks =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "answer-deadlines");
              t.setDaemon(true);
              return t;
            });
    clocks.setRemoveOnCancelPolicy(true); // a clock stopped is gone, not queued for 30 s
  }

  @Override
  public void accept(ServerBuilder<?> server) {
    server.addStreamTracerFactory(this);
  }

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    if (!GET_CONFIGS.equals(fullMethodName)) {
      return UNTOUCHED;
    }
    return new ServerStreamTracer() {
      @Override
      public Context filterContext(Context context) {
        Context.CancellableContext call = context.withCancellation();
        return call.withValue(CALL, call);
      }
    };
  }

  /**
   * The current {@code GetConfigs} call's answer, reserved by {@code permit}: run it when the call
   * ends (closed or cancelled), and {@link Answer#handedOver()} once the answer is with the
   * transport.
   */
  Answer answer(CallCapacity.Permit permit) {
    return new Answer(permit, CALL.get());
  }

  /** One answer in flight: its reservation and, once handed over, its clock. */
  final class Answer implements Runnable {
    private final CallCapacity.Permit permit;
    private final Context.CancellableContext call;
    private volatile ScheduledFuture<?> clock;
    private volatile boolean ended;

    private Answer(CallCapacity.Permit permit, Context.CancellableContext call) {
      this.permit = permit;
      this.call = call;
    }

    /** The answer is with the transport: a large one must be taken within the deadline. */
    void handedOver() {
      if (call != null && permit.reserved()) {
        clock =
            clocks.schedule(
                () -> {
                  String why =
                      "a GetConfigs answer was not taken by its consumer within "
                          + TimeUnit.NANOSECONDS.toMillis(deadlineNanos)
                          + " ms (veltrix.grpc.answer-deadline); its call is ended";
                  log.warn(why);
                  call.cancel(new TimeoutException(why));
                },
                deadlineNanos,
                TimeUnit.NANOSECONDS);
        if (ended) { // the consumer cancelled meanwhile: no clock for an ended call
          clock.cancel(false);
        }
      }
    }

    /** The call ended: its memory is free. */
    @Override
    public void run() {
      ended = true;
      permit.close();
      ScheduledFuture<?> running = clock;
      if (running != null) {
        running.cancel(false);
      }
    }
  }
}
