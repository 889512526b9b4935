package dev.thunderlink.benchmarks.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * File helpers of the mirror benchmarks ({@code thunderlink bench}'s {@code sync} suite and the JMH
 * {@code SyncBenchmark}), where both copies of a tree are on this machine. Called on the benchmark's
 * thread.
 */
public final class TreeFiles {
  private TreeFiles() {}

  /** {@code n} regular files of the tree under {@code root}, spread over it, in a stable order. */
  public static List<Path> pick(Path root, int n) throws IOException {
    List<Path> all;
    try (Stream<Path> s = Files.walk(root)) {
      all = s.filter(Files::isRegularFile).sorted().toList();
    }
    if (all.size() < n) {
      throw new IOException("the generated tree has " + all.size() + " files (expected: >= " + n + ")");
    }
    int step = all.size() / n;
    return IntStream.range(0, n).mapToObj(i -> all.get(i * step)).toList();
  }

  /**
   * Waits until {@code file} holds {@code content}: polls every 0.1 ms (a watcher would add its own
   * latency to the figure), gives up after {@code timeout}.
   */
  public static void awaitContent(Path file, byte[] content, Duration timeout) throws TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        if (Files.size(file) == content.length && Arrays.equals(Files.readAllBytes(file), content)) {
          return;
        }
      } catch (IOException e) {
        // not there yet, or being renamed into place
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("sync: " + file + " did not get the new content within " + timeout.toSeconds() + " s");
      }
      LockSupport.parkNanos(100_000);
    }
  }

  /** Deletes {@code dir} and everything below it, if it exists. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
