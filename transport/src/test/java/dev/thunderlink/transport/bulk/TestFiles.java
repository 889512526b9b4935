package dev.thunderlink.transport.bulk;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.function.BooleanSupplier;

/** Files with known content, and waiting with a deadline. */
final class TestFiles {
  private TestFiles() {}

  static Path random(Path file, int size, long seed) throws IOException {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    Files.createDirectories(file.getParent());
    return Files.write(file, b);
  }

  static Path text(Path file, int size) throws IOException {
    StringBuilder sb = new StringBuilder(size + 100);
    int i = 0;
    while (sb.length() < size) {
      sb.append("line ").append(i++).append(": the quick brown fox jumps over the lazy dog\n");
    }
    Files.createDirectories(file.getParent());
    return Files.write(file, sb.substring(0, size).getBytes(StandardCharsets.US_ASCII));
  }

  static void await(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      Thread.onSpinWait();
      Thread.yield();
      java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
    }
  }
}
