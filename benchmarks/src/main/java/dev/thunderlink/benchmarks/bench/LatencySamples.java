package dev.thunderlink.benchmarks.bench;

import java.util.Arrays;

/** A growable array of round-trip times in nanoseconds, with nearest-rank percentiles. */
final class LatencySamples {
  private long[] nanos = new long[1024];
  private int size;

  void add(long value) {
    if (size == nanos.length) {
      nanos = Arrays.copyOf(nanos, size * 2);
    }
    nanos[size++] = value;
  }

  int size() {
    return size;
  }

  /** The {@code p}th percentile (nearest rank) in microseconds. */
  double percentileMicros(double p) {
    if (size == 0) {
      throw new IllegalStateException("no samples");
    }
    long[] sorted = Arrays.copyOf(nanos, size);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * size);
    return sorted[Math.max(0, Math.min(size - 1, rank - 1))] / 1000.0;
  }
}
