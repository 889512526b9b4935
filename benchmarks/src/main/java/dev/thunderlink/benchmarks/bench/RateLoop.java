package dev.thunderlink.benchmarks.bench;

/**
 * Repeats one transfer until a time has passed and gives the rate: the measuring loop of the
 * throughput suites. Runs on the suite's thread, telling the recorder how far it is.
 */
final class RateLoop {
  private RateLoop() {}

  /** One transfer of a fixed number of bytes. */
  interface Step {
    void run() throws Exception;
  }

  /** {@code count} transfers of {@code bytesPerStep} in {@code nanos}. */
  record Rate(long count, long nanos, long bytesPerStep) {
    double mibPerSecond() {
      return count * (double) bytesPerStep / (1 << 20) / (nanos / 1e9);
    }
  }

  /** Transfers until {@code millis} have passed, at least one. */
  static Rate run(Step step, long bytesPerStep, long millis, BenchRecorder recorder) throws Exception {
    long start = System.nanoTime();
    long end = start + millis * 1_000_000;
    long reported = start;
    long n = 0;
    do {
      step.run();
      n++;
      long now = System.nanoTime();
      recorder.worked((now - reported) / 1_000_000);
      reported = now;
    } while (System.nanoTime() < end);
    return new Rate(n, System.nanoTime() - start, bytesPerStep);
  }
}
