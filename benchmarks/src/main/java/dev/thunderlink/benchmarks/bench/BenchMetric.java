package dev.thunderlink.benchmarks.bench;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One figure a {@link BenchSuite} measures per path.
 *
 * @param id short id, unique in its suite ({@code ping-p50})
 * @param name label in the report and the chart ({@code Link Ping p50})
 * @param unit unit of the value ({@code us}, {@code MiB/s})
 * @param higherIsBetter true for throughput, false for latency
 * @param limitId id of the metric in the same suite that is this one's raw baseline on the same
 *     path, or null when it has none (or is itself a limit)
 * @param isLimit true for a raw baseline ("the machine's limit"), false for a thunderlink figure
 */
public record BenchMetric(String id, String name, String unit, boolean higherIsBetter, String limitId, boolean isLimit) {
  private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,39}");

  public BenchMetric {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(unit, "unit");
    if (id == null || !ID.matcher(id).matches()) {
      throw new IllegalArgumentException("metric id: " + id + " (expected: 1-40 of a-z, 0-9, '-')");
    }
  }

  /** A thunderlink figure compared with the raw baseline {@code limitId}. */
  public static BenchMetric measured(String id, String name, String unit, boolean higherIsBetter, String limitId) {
    return new BenchMetric(id, name, unit, higherIsBetter, Objects.requireNonNull(limitId, "limitId"), false);
  }

  /** A thunderlink figure with no raw baseline on the same path (e.g. sync latency). */
  public static BenchMetric unpaired(String id, String name, String unit, boolean higherIsBetter) {
    return new BenchMetric(id, name, unit, higherIsBetter, null, false);
  }

  /** A raw baseline: what the path itself gives, without thunderlink. */
  public static BenchMetric limit(String id, String name, String unit, boolean higherIsBetter) {
    return new BenchMetric(id, name, unit, higherIsBetter, null, true);
  }
}
