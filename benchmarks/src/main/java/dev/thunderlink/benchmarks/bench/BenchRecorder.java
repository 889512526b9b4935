package dev.thunderlink.benchmarks.bench;

/**
 * Where a {@link BenchSuite} puts what it measured on one path, and tells how far it is.
 * Called from the suite's thread only.
 */
public interface BenchRecorder {

  /** The value of {@code metricId} on this path, in the metric's unit, from {@code samples} samples. */
  void value(String metricId, double value, long samples);

  /** {@code metricId} could not be measured on this path, and why (one line, for the report). */
  void unavailable(String metricId, String why);

  /** A line for the report's notes, e.g. lost pings. */
  void note(String text);

  /** Tells the progress display what runs now. */
  void phase(String what);

  /** Tells the progress display that about {@code millis} of the planned time has passed. */
  void worked(long millis);
}
