package dev.thunderlink.benchmarks.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one {@code thunderlink bench} run measured: per suite, per metric, per path a value or the
 * reason it is missing. Filled by {@link BenchRun} on the main thread, then read by {@link
 * BenchReport}; not shared between threads.
 */
final class BenchResults {

  /** One path as the report names it. */
  record PathInfo(String name, String label, String description) {}

  /** The column a host-side suite ({@link BenchSuite#hostSide()}) records into, for every path. */
  static final String HOST = "host";

  /** A value (with its sample count) or why there is none. */
  record Cell(Double value, long samples, String unavailable) {
    static Cell of(double value, long samples) {
      return new Cell(value, samples, null);
    }

    static Cell missing(String why) {
      return new Cell(null, 0, why);
    }

    boolean present() {
      return value != null;
    }
  }

  /** One suite's figures. */
  static final class SuiteResult {
    final BenchSuite suite;
    /** metric id -> path name -> cell, in the suite's metric order. */
    final Map<String, Map<String, Cell>> cells = new LinkedHashMap<>();
    final List<String> notes = new ArrayList<>();
    long millis;

    SuiteResult(BenchSuite suite) {
      this.suite = suite;
      for (BenchMetric m : suite.metrics()) {
        cells.put(m.id(), new LinkedHashMap<>());
      }
    }

    Cell cell(String metricId, String path) {
      Map<String, Cell> byPath = cells.get(metricId);
      Cell c = byPath == null ? null : byPath.get(path);
      return c == null ? Cell.missing("not measured") : c;
    }

    BenchMetric metric(String id) {
      for (BenchMetric m : suite.metrics()) {
        if (m.id().equals(id)) {
          return m;
        }
      }
      throw new IllegalArgumentException("metric: " + id + " (expected one of " + cells.keySet() + ")");
    }
  }

  final Instant started;
  final String mode;
  final String environment;
  final boolean full;
  final List<PathInfo> paths = new ArrayList<>();
  final List<SuiteResult> suites = new ArrayList<>();
  final List<String> notMeasuredYet = new ArrayList<>();
  final List<String> warnings = new ArrayList<>();
  Instant finished;

  BenchResults(Instant started, String mode, String environment, boolean full) {
    this.started = started;
    this.mode = mode;
    this.environment = environment;
    this.full = full;
  }

  /** The columns {@code s} has: every path, or the one {@link #HOST} column of a host-side suite. */
  List<PathInfo> columns(SuiteResult s) {
    BenchSuite.HostSide h = s.suite.hostSide();
    return h == null ? paths : List.of(new PathInfo(HOST, h.measured(), "host side, the same on every path"));
  }

  /**
   * How much better the first path is than the second for {@code metric}: second/first for a
   * lower-is-better metric, first/second for higher-is-better; null when a value is missing.
   */
  static Double advantage(BenchMetric metric, Cell first, Cell second) {
    if (!first.present() || !second.present() || first.value() <= 0 || second.value() <= 0) {
      return null;
    }
    return metric.higherIsBetter() ? first.value() / second.value() : second.value() / first.value();
  }
}
