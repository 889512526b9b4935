package dev.thunderlink.transport.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition with a deadline (no bare sleeps in tests). */
public final class Await {
  private Await() {}

  public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> describe)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + ": " + describe.get());
      }
      Thread.sleep(10); // polling interval of the await loop
    }
  }
}
