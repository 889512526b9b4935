package dev.thunderlink.benchmarks.bench;

import java.time.Duration;

/**
 * How long to measure, as a factor on every phase's short-run length: {@link #SHORT} (about a
 * minute for the built-in suites over two paths) or {@link #FULL} ({@code --full}, five times
 * longer). Tests use a small factor to check that everything runs, not to measure.
 *
 * @param factor multiplier of the short-run phase lengths, {@code > 0}
 */
public record BenchBudget(double factor) {

  public static final BenchBudget SHORT = new BenchBudget(1);
  public static final BenchBudget FULL = new BenchBudget(5);

  public BenchBudget {
    if (!(factor > 0) || factor > 1000) {
      throw new IllegalArgumentException("factor: " + factor + " (expected: > 0 and <= 1000)");
    }
  }

  public boolean full() {
    return factor >= FULL.factor;
  }

  /** The time of a phase whose short-run length is {@code shortRun}. */
  public Duration of(Duration shortRun) {
    return Duration.ofNanos((long) (shortRun.toNanos() * factor));
  }

  public long millis(long shortRunMillis) {
    return Math.max(1, (long) (shortRunMillis * factor));
  }
}
