package com.veltrix.config.grpc;

import com.veltrix.config.catalog.RequestId;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import net.devh.boot.grpc.common.util.InterceptorOrder;
import net.devh.boot.grpc.server.interceptor.GrpcGlobalServerInterceptor;
import org.slf4j.MDC;
import org.springframework.core.annotation.Order;

/**
 * Gives every call an id, as the REST filter does: the client's {@code x-request-id} metadata, or a
 * new UUID. It is returned in the response headers (and trailers, for a call that fails before
 * any), in the MDC ({@code requestId}) of every log line the call's code writes, and stored with
 * every version the call writes. An id that breaks {@link RequestId#RULE} is INVALID_ARGUMENT.
 * Outermost interceptor, so that refusals by authentication carry the id too.
 */
@GrpcGlobalServerInterceptor
@Order(InterceptorOrder.ORDER_FIRST)
class RequestIdInterceptor implements ServerInterceptor {

  static final Metadata.Key<String> HEADER =
      Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<String> ID = Context.key("veltrix.request-id");

  /** The current call's id. */
  static String current() {
    String id = ID.get();
    return id != null ? id : RequestId.generate();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String given = headers.get(HEADER);
    boolean refused = given != null && !RequestId.acceptable(given);
    String id = given == null || refused ? RequestId.generate() : given;
    ServerCall<Q, R> answering = new Answering<>(call, id);
    if (refused) {
      answering.close(
          Status.INVALID_ARGUMENT.withDescription("x-request-id: " + RequestId.RULE),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    Context context = Context.current().withValue(ID, id);
    return new Logged<>(Contexts.interceptCall(context, answering, headers, next), id);
  }

  /** Returns the id in the headers, or in the trailers when no header was sent. */
  private static final class Answering<Q, R>
      extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    private final String id;
    private volatile boolean headersSent;

    Answering(ServerCall<Q, R> call, String id) {
      super(call);
      this.id = id;
    }

    @Override
    public void sendHeaders(Metadata headers) {
      headers.put(HEADER, id);
      headersSent = true;
      super.sendHeaders(headers);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      if (!headersSent) {
        trailers.put(HEADER, id);
      }
      super.close(status, trailers);
    }
  }

  /** Puts the id in the MDC while each of the call's callbacks runs, on whatever thread. */
  private static final class Logged<Q> extends ForwardingServerCallListener<Q> {
    private final ServerCall.Listener<Q> delegate;
    private final String id;

    Logged(ServerCall.Listener<Q> delegate, String id) {
      this.delegate = delegate;
      this.id = id;
    }

    @Override
    protected ServerCall.Listener<Q> delegate() {
      return delegate;
    }

    private void logged(Runnable callback) {
      MDC.put("requestId", id);
      try {
        callback.run();
      } finally {
        MDC.remove("requestId");
      }
    }

    @Override
    public void onMessage(Q message) {
      logged(() -> super.onMessage(message));
    }

    @Override
    public void onHalfClose() {
      logged(super::onHalfClose);
    }

    @Override
    public void onCancel() {
      logged(super::onCancel);
    }

    @Override
    public void onComplete() {
      logged(super::onComplete);
    }

    @Override
    public void onReady() {
      logged(super::onReady);
    }
  }
}
