package com.veltrix.config.support;

/** A test's pause: keeps the thread's interrupt and fails the test if it comes. */
public final class Sleep {

  private Sleep() {}

  public static void millis(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
