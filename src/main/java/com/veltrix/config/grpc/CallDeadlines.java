package com.veltrix.config.grpc;

import com.veltrix.config.catalog.CallContext;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.concurrent.TimeUnit;
import net.devh.boot.grpc.server.interceptor.GrpcGlobalServerInterceptor;

/**
 * Hands the client's deadline to the catalog ({@link CallContext}) while a call's code runs, so
 * database work and its retries never outlive it. Calls without a deadline use the request budget.
 */
@GrpcGlobalServerInterceptor
class CallDeadlines implements ServerInterceptor {

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Deadline deadline = Context.current().getDeadline();
    ServerCall.Listener<Q> listener = next.startCall(call, headers);
    if (deadline == null) {
      return listener;
    }
    long nanoTime = System.nanoTime() + deadline.timeRemaining(TimeUnit.NANOSECONDS);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onHalfClose() {
        CallContext.run(nanoTime, super::onHalfClose);
      }

      @Override
      public void onReady() {
        CallContext.run(nanoTime, super::onReady);
      }
    };
  }
}
