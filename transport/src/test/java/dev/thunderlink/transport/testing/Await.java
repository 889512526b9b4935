package dev.thunderlink.transport.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/** Waits for a condition with a deadline (Awaitility underneath); no bare sleeps in tests. */
public final class Await {
  private Await() {}

  public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> describe) {
    try {
      Awaitility.await().atMost(timeout).pollInterval(Duration.ofMillis(10)).until(condition::getAsBoolean);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("timed out after " + timeout + ": " + describe.get(), e);
    }
  }
}
