package com.veltrix.config.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.catalog.CallContext;
import com.veltrix.config.catalog.RequestBudget;
import com.veltrix.config.support.Sleep;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The deadline a call's code sees ({@link CallContext}) when the client sent none. (The contract
 * tests cover calls with one.) A grpc-java client sends a unary call's headers and its message
 * together, so the time between the call's arrival and its code is this server's own queue: the
 * test holds the call there.
 */
class CallDeadlinesTest {

  static final long BUDGET_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  final CallContexts interceptor = new CallContexts(new RequestBudget(Duration.ofMillis(250)));
  final AtomicReference<OptionalLong> seen = new AtomicReference<>();

  @Test
  void aUnaryCallGetsTheRequestBudgetFromItsArrival() {
    long before = System.nanoTime();
    ServerCall.Listener<String> listener = arrive(MethodDescriptor.MethodType.UNARY);
    long after = System.nanoTime();
    Sleep.millis(300); // queued behind other calls on a busy executor

    listener.onHalfClose();

    assertThat(seen.get()).as("a deadline").isPresent();
    assertThat(seen.get().getAsLong()).isBetween(before + BUDGET_NANOS, after + BUDGET_NANOS);
  }

  @Test
  void aStreamingCallHasNoDeadlineOfItsOwn() {
    ServerCall.Listener<String> listener = arrive(MethodDescriptor.MethodType.SERVER_STREAMING);

    listener.onHalfClose();

    assertThat(seen.get()).as("each database call gets the budget when it starts").isEmpty();
  }

  private ServerCall.Listener<String> arrive(MethodDescriptor.MethodType type) {
    return interceptor.interceptCall(
        new Call(type),
        new Metadata(),
        (call, headers) ->
            new ServerCall.Listener<>() {
              @Override
              public void onHalfClose() {
                seen.set(CallContext.deadline());
              }
            });
  }

  private static final class Call extends ServerCall<String, String> {
    private static final MethodDescriptor.Marshaller<String> TEXT =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
          }

          @Override
          public String parse(InputStream stream) {
            return "";
          }
        };

    private final MethodDescriptor<String, String> method;

    Call(MethodDescriptor.MethodType type) {
      this.method =
          MethodDescriptor.<String, String>newBuilder()
              .setType(type)
              .setFullMethodName("test.Service/Call")
              .setRequestMarshaller(TEXT)
              .setResponseMarshaller(TEXT)
              .build();
    }

    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {}

    @Override
    public void sendMessage(String message) {}

    @Override
    public void close(Status status, Metadata trailers) {}

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public MethodDescriptor<String, String> getMethodDescriptor() {
      return method;
    }
  }
}
