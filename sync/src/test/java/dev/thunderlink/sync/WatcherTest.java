package dev.thunderlink.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The directory-watcher path: edits propagate without flush, and a burst is coalesced. */
class WatcherTest {
  @TempDir
  Path tmp;

  private static long files(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".thunderlink")).count();
    } catch (IOException | java.io.UncheckedIOException e) {
      return -1;
    }
  }

  @Test
  void aBurstOfCreatesIsCoalescedIntoFewCycles() throws Exception {
    Path a = Files.createDirectories(tmp.resolve("a"));
    Path b = Files.createDirectories(tmp.resolve("b"));
    SyncSessionConfig c = SyncSessionConfig.builder("w").localRoot(a).remoteRoot(b.toString())
        .stateDir(tmp.resolve("state")).debounce(Duration.ofMillis(20)).build();
    try (SyncSession s = SyncSession.startLocal(c, b, "mini")) {
      s.flush(Duration.ofSeconds(30));
      long cyclesBefore = s.status().cycles();
      int n = 2000; // enough to overflow the JDK watch key (512 pending events) under load
      for (int i = 0; i < n; i++) {
        Files.write(a.resolve("burst-" + i + ".txt"), ("x" + i).getBytes());
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (files(b) < n) {
        assertThat(System.nanoTime()).as("burst not mirrored in time: %s files, %s", files(b), s.status())
            .isLessThan(deadline);
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
      }
      // coalesced: far fewer cycles than files (each cycle handles a whole batch)
      assertThat(s.status().cycles() - cyclesBefore).isLessThan(n / 10);
    }
  }
}
