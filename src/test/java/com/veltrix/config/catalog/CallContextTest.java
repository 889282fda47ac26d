package com.veltrix.config.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import com.veltrix.config.support.Sleep;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The trail a call that runs out of time logs (where its time went), and the permit a call to the
 * database keeps between its attempts.
 */
class CallContextTest {

  private static final long LATER = TimeUnit.SECONDS.toNanos(10);

  @Test
  void aCallThatNeverFailsHasNoTrail() {
    String trail =
        CallContext.call(
            System.nanoTime() + LATER,
            () -> {
              CallContext.current().connectionHandedOut(LATER);
              CallContext.current().connectionHandedOut(LATER);
              return CallContext.current().trail();
            });
    assertThat(trail).isEmpty();
  }

  @Test
  void aCallOfAttemptsKeepsOnePermitUntilItEndsAndAnOrdinaryCallNone() {
    Semaphore permits = new Semaphore(0);
    CallContext.attempts(
        System.nanoTime() + LATER,
        () -> {
          CallContext call = CallContext.current();
          assertThat(call.keepPermit(permits)).isTrue();
          assertThat(call.keepPermit(permits)).as("a second one goes back").isFalse();
          assertThat(call.takeKeptPermit(permits)).isTrue();
          assertThat(call.takeKeptPermit(permits)).as("taken once").isFalse();
          assertThat(call.keepPermit(permits)).isTrue();
          assertThat(call.takeKeptPermit(new Semaphore(0))).as("another queue's").isFalse();
          // a nested ordinary context keeps nothing; the outer one still has its permit
          CallContext.run(
              System.nanoTime() + LATER,
              () -> assertThat(CallContext.current().keepPermit(permits)).isFalse());
          return null;
        });
    assertThat(permits.availablePermits()).as("released when the call ended").isEqualTo(1);
    CallContext.run(
        System.nanoTime() + LATER,
        () -> assertThat(CallContext.current().keepPermit(permits)).isFalse());
  }

  @Test
  void aFailedCallListsItsConnectionsAndFailuresInOrder() {
    String trail =
        trailOf(
            call -> {
              call.connectionHandedOut(LATER);
              call.note("40001 could not serialize access");
              call.connectionHandedOut(LATER);
              call.note("08006 An I/O error");
            });
    assertThat(trail)
        .matches(
            "\\+\\d+ms connection, \\+\\d+ms 40001 could not serialize access,"
                + " \\+\\d+ms connection, \\+\\d+ms 08006 An I/O error");
  }

  @Test
  void theFirstFailureIsListedAfterTheConnectionItCameOn() {
    String trail =
        trailOf(
            call -> {
              call.connectionHandedOut(LATER);
              Sleep.millis(30);
              call.connectionHandedOut(LATER);
              call.note("08006 An I/O error");
            });
    assertThat(trail).matches("\\+\\d+ms connection, \\+\\d+ms 08006 An I/O error");
    long connectionMillis = Long.parseLong(trail.substring(1, trail.indexOf("ms")));
    assertThat(connectionMillis).as("the later of the two hand-outs").isGreaterThanOrEqualTo(30);
  }

  @Test
  void aFailureBeforeAnyConnectionIsListedAlone() {
    String trail =
        CallContext.call(
            System.nanoTime() + LATER,
            () -> {
              CallContext.current().note("CannotGetJdbcConnectionException");
              return CallContext.current().trail();
            });
    assertThat(trail).matches("\\+\\d+ms CannotGetJdbcConnectionException");
  }

  /** The trail of a call (with a deadline far off) after {@code steps}. */
  private static String trailOf(java.util.function.Consumer<CallContext> steps) {
    return CallContext.call(
        System.nanoTime() + LATER,
        () -> {
          steps.accept(CallContext.current());
          return CallContext.current().trail();
        });
  }
}
