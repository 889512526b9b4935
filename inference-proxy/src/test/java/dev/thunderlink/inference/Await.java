package dev.thunderlink.inference;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/** Waits for a condition with a deadline (Awaitility underneath); fails the test when it passes. */
public final class Await {
  private Await() {}

  public static void until(Duration deadline, String what, BooleanSupplier condition) {
    try {
      Awaitility.await(what).atMost(deadline).pollInterval(Duration.ofMillis(2)).until(condition::getAsBoolean);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("timed out after " + deadline + " waiting for: " + what, e);
    }
  }
}
