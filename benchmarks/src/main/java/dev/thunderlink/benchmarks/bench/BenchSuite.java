package dev.thunderlink.benchmarks.bench;

import java.util.List;

/**
 * One benchmark of {@code thunderlink bench}: measures a few metrics over one path at a time, so
 * each figure comes as a Thunderbolt/Wi-Fi pair, and names for each thunderlink metric the raw
 * baseline ("the limit") measured on the same path.
 *
 * <p>Extension point. The built-in suites ({@link BenchSuites#builtIn()}) are {@code round-trip},
 * {@code throughput}, {@code bulk-modes}, {@code sync}, {@code token-stream} and the host-side
 * {@code scheduler}; another jar adds its own through {@link java.util.ServiceLoader} ({@code
 * META-INF/services/dev.thunderlink.benchmarks.bench.BenchSuite}).
 *
 * <p>Threads: {@link #run} is called on the bench's main thread, once per path, one path after
 * the other; it may block. It must not keep threads or connections after it returns.
 */
public interface BenchSuite {

  /** Short id for {@code --only}, results.json and chart file names, e.g. {@code round-trip}. */
  String id();

  /** Title of the report section, e.g. {@code RPC round trip}. */
  String title();

  /** One or two sentences for the report: what is measured and how. */
  String description();

  /** Every metric {@link #run} may record, in report order. */
  List<BenchMetric> metrics();

  /** Roughly how long {@link #run} takes on one path, for the progress bar. */
  long plannedMillis(BenchBudget budget);

  /**
   * Measures over {@code target}. Records each metric or why it could not be measured; an
   * exception marks every metric not yet recorded as failed with its message.
   */
  void run(BenchTarget target, BenchBudget budget, BenchRecorder recorder) throws Exception;

  /**
   * Null (the default) for a suite measured over each path. A suite whose figures do not depend on
   * the path, because it measures something on the host side only (the inference scheduler), returns
   * the names of its two columns instead: it then runs once, with the first path's target, and the
   * report shows it once, each thunderlink figure beside its baseline (the metric's {@code limitId}).
   */
  default HostSide hostSide() {
    return null;
  }

  /**
   * The columns of a host-side suite's table.
   *
   * @param measured what thunderlink's figures are, e.g. {@code thunderlink scheduler}
   * @param baseline what the baselines are, e.g. {@code plain FIFO (Ollama alone)}
   */
  record HostSide(String measured, String baseline) {
    public HostSide {
      java.util.Objects.requireNonNull(measured, "measured");
      java.util.Objects.requireNonNull(baseline, "baseline");
    }
  }
}
