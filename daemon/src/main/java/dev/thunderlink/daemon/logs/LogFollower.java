package dev.thunderlink.daemon.logs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * {@code logs -f}: prints lines appended to {@code thunderlink.log} as they come, following
 * the file across logback's rollover (rename + new file) and truncation. Polls the file at a
 * fixed interval, as {@code tail -F} does — a file can be replaced under a watch, and
 * FSEvents on macOS would batch the events anyway. Runs on the calling thread until
 * {@link #stop} or an interrupt (the interrupt status is restored).
 */
public final class LogFollower {
  private final Path file;
  private final Duration poll;
  private volatile boolean stopped;

  public LogFollower(Path file, Duration poll) {
    this.file = file;
    this.poll = poll;
  }

  public void stop() {
    stopped = true;
  }

  /**
   * Follows from byte {@code offset} of the current file (use the file's size to print only
   * what comes next). Partial lines are held until their newline arrives.
   */
  public void follow(long offset, Consumer<String> out) throws IOException {
    Object key = null;
    long position = offset;
    ByteArrayOutputStream partial = new ByteArrayOutputStream();
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    while (!stopped && !Thread.currentThread().isInterrupted()) {
      BasicFileAttributes attrs;
      try {
        attrs = Files.readAttributes(file, BasicFileAttributes.class);
      } catch (NoSuchFileException e) {
        attrs = null; // between rename and re-create during rollover
      }
      if (attrs != null) {
        Object k = attrs.fileKey();
        if (key != null && !Objects.equals(k, key) || attrs.size() < position) {
          position = 0; // rolled over or truncated: the new file is read from its start
          partial.reset();
        }
        key = k;
        if (attrs.size() > position) {
          try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.position(position);
            int n;
            while ((n = ch.read(buf.clear())) > 0) {
              position += n;
              emit(buf.array(), n, partial, out);
            }
          } catch (NoSuchFileException e) {
            continue;
          }
          continue;
        }
      }
      try {
        Thread.sleep(poll.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static void emit(byte[] bytes, int n, ByteArrayOutputStream partial, Consumer<String> out) {
    int start = 0;
    for (int i = 0; i < n; i++) {
      if (bytes[i] == '\n') {
        partial.write(bytes, start, i - start);
        out.accept(partial.toString(StandardCharsets.UTF_8));
        partial.reset();
        start = i + 1;
      }
    }
    partial.write(bytes, start, n - start);
  }
}
