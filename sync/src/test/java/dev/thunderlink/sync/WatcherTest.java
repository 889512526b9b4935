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

  /**
   * Renaming a folder that holds most of the tree (an editor's rename, a `mv`) is a rename as the
   * watcher reports it too, not a mass deletion that halts the session: the full-scan case is
   * in MirrorSoakRegressionTest, this is the live one (found in the demo).
   */
  @Test
  void renamingAFolderThatHoldsMostOfTheTreeIsNoMassDeletion() throws Exception {
    Path a = Files.createDirectories(tmp.resolve("a"));
    Path b = Files.createDirectories(tmp.resolve("b"));
    for (int i = 0; i < 200; i++) {
      Files.writeString(Files.createDirectories(a.resolve("big")).resolve("r" + i + ".txt"), "content " + i);
    }
    for (int i = 0; i < 20; i++) {
      Files.writeString(a.resolve("f" + i + ".txt"), "top " + i);
    }
    SyncSessionConfig c = SyncSessionConfig.builder("w").localRoot(a).remoteRoot(b.toString())
        .stateDir(tmp.resolve("state")).build();
    try (SyncSession s = SyncSession.startLocal(c, b, "mini")) {
      s.flush(Duration.ofSeconds(30));
      assertThat(files(b)).isEqualTo(220);
      Files.move(a.resolve("big"), a.resolve("moved"));
      s.flush(Duration.ofSeconds(30));
      assertThat(s.status().state()).isEqualTo("RUNNING");
      assertThat(Files.exists(b.resolve("moved/r7.txt"))).isTrue();
      assertThat(Files.exists(b.resolve("big"))).isFalse();
      assertThat(s.status().renamesApplied()).isEqualTo(200);
      // moving it out of the tree at once is a mass deletion still: the full scan confirms it
      Files.move(a.resolve("moved"), tmp.resolve("gone"));
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.flush(Duration.ofSeconds(30)))
          .hasMessageMatching("sync w (is )?halted: would delete 201 of 221 entries on mini at once; confirm with resume --force");
      assertThat(s.status().state()).isEqualTo("HALTED");
      assertThat(files(b)).isEqualTo(220);
    }
  }

  /** A folder moved in from outside the tree arrives whole, found by the watch alone (no flush). */
  /**
   * A root that is a symbolic link to a folder (~/proj -> /Volumes/work/proj): the walk saw one
   * link, and the first cycle halted with "the local root is missing". Both roots links here,
   * watched live; files go both ways and the session never halts.
   */
  @Test
  void rootsThatAreLinksToFoldersAreSyncedAsThoseFolders() throws Exception {
    Path realA = Files.createDirectories(tmp.resolve("real-a"));
    Path realB = Files.createDirectories(tmp.resolve("real-b"));
    Files.writeString(Files.createDirectories(realA.resolve("sub")).resolve("f.txt"), "from a");
    Path a = Files.createSymbolicLink(tmp.resolve("a"), realA);
    Path b = Files.createSymbolicLink(tmp.resolve("b"), realB);
    SyncSessionConfig c = SyncSessionConfig.builder("w").localRoot(a).remoteRoot(b.toString())
        .stateDir(tmp.resolve("state")).build();
    try (SyncSession s = SyncSession.startLocal(c, b, "mini")) {
      s.flush(Duration.ofSeconds(30));
      assertThat(Files.readString(realB.resolve("sub/f.txt"))).isEqualTo("from a");
      Files.writeString(realB.resolve("sub/g.txt"), "from b");
      Files.writeString(a.resolve("top.txt"), "through the link");
      s.flush(Duration.ofSeconds(30));
      assertThat(Files.readString(realA.resolve("sub/g.txt"))).isEqualTo("from b");
      assertThat(Files.readString(realB.resolve("top.txt"))).isEqualTo("through the link");
      assertThat(s.status().state()).isEqualTo("RUNNING");
      assertThat(s.status().haltReason()).isEmpty();
      assertThat(Files.isSymbolicLink(a) && Files.isSymbolicLink(b)).as("the links stay links").isTrue();
    }
  }

  @Test
  void aFolderMovedInFromOutsideArrivesWithoutAFlush() throws Exception {
    Path a = Files.createDirectories(tmp.resolve("a"));
    Path b = Files.createDirectories(tmp.resolve("b"));
    Path outside = Files.createDirectories(tmp.resolve("outside/pkg/sub"));
    for (int i = 0; i < 50; i++) {
      Files.writeString(outside.resolve("s" + i + ".txt"), "sub " + i);
      Files.writeString(outside.getParent().resolve("p" + i + ".txt"), "pkg " + i);
    }
    SyncSessionConfig c = SyncSessionConfig.builder("w").localRoot(a).remoteRoot(b.toString())
        .stateDir(tmp.resolve("state")).debounce(Duration.ofMillis(20)).build();
    try (SyncSession s = SyncSession.startLocal(c, b, "mini")) {
      s.flush(Duration.ofSeconds(30));
      Files.move(outside.getParent(), a.resolve("pkg"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (files(b) < 100) {
        assertThat(System.nanoTime()).as("moved-in folder not mirrored: %s files, %s", files(b), s.status()).isLessThan(deadline);
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
      }
      assertThat(b.resolve("pkg/sub/s49.txt")).hasContent("sub 49");
    }
  }
}
