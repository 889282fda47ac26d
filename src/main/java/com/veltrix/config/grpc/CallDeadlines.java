package com.veltrix.config.grpc;

import com.veltrix.config.catalog.CallContext;
import com.veltrix.config.catalog.RequestBudget;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.concurrent.TimeUnit;
import net.devh.boot.grpc.server.interceptor.GrpcGlobalServerInterceptor;

/**
 * Hands the client's deadline to the catalog ({@link CallContext}) while a call's code runs, so
 * database work and its retries never outlive it. A unary call without a deadline gets the request
 * budget from its arrival, as a REST call does; a streaming call without one (a watch, a manifest)
 * has none, and each database call it makes gets the budget when it starts.
 */
@GrpcGlobalServerInterceptor
class CallContexts implements ServerInterceptor {

  private final RequestBudget budget;

  CallContexts(RequestBudget budget) {
    this.budget = budget;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Deadline deadline = Context.current().getDeadline();
    boolean unary = call.getMethodDescriptor().getType() == MethodDescriptor.MethodType.UNARY;
    long nanoTime =
        deadline != null
            ? System.nanoTime() + deadline.timeRemaining(TimeUnit.NANOSECONDS)
            : budget.deadlineNanos();
    ServerCall.Listener<Q> listener = next.startCall(call, headers);
    if (deadline == null && !unary) {
      return listener;
    }
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
