package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The watcher on a real directory (inotify on Linux, FSEvents on macOS). */
class TreeWatcherTest {
  @TempDir
  Path root;

  @Test
  void theAppliersOwnTempFilesAreDroppedBeforeTheyAreQueued() throws Exception {
    List<Path> seen = new CopyOnWriteArrayList<>();
    try (TreeWatcher w = new TreeWatcher(root, Duration.ofMillis(2), Duration.ofMillis(50), Duration.ofMillis(10),
        seen::add, () -> { }, () -> { }, () -> { })) {
      awaitWatching(seen, root);
      // what an apply does: write a temporary sibling, then rename it over the real name
      Path tmp = root.resolve(IgnoreRules.TEMP_PREFIX + "0f1e2d");
      Files.writeString(tmp, "incoming");
      Files.move(tmp, root.resolve("real.txt"), StandardCopyOption.ATOMIC_MOVE);
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> seen.contains(root.resolve("real.txt")));
      assertThat(seen).noneMatch(TreeWatcher::isOwnTempFile);
    }
  }

  /** Every registration fails from now on (until the test resets the hook), as one out of inotify watches does; counted. */
  private static void failEveryRegistration(AtomicInteger attempts) {
    TreeWatcher.beforeRegistering = w -> {
      attempts.incrementAndGet();
      try {
        w.close();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
  }

  @Test
  void aTreeThatCannotBeRegisteredIsTriedAFewTimesThenLeftToRescans() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    AtomicInteger ended = new AtomicInteger();
    failEveryRegistration(attempts);
    try (TreeWatcher w = new TreeWatcher(root, Duration.ofMillis(2), Duration.ofMillis(50), Duration.ofMillis(10),
        p -> { }, () -> { }, () -> { }, ended::incrementAndGet)) {
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> !w.registering());
      assertThat(ended.get()).isEqualTo(1);
      // no restart after giving up: one would be due 50 ms after a failure, so the count must hold
      // for ten times that
      Awaitility.await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
          .until(() -> attempts.get() == TreeWatcher.MAX_FAILED_REGISTRATIONS + 1);
    } finally {
      TreeWatcher.beforeRegistering = w -> { };
    }
  }

  /**
   * The worst order of a restart: the watcher it starts fails, and that failure is handled,
   * before the restart is over. That failure still asks for a restart of its own; it was lost,
   * and the tree stayed unwatched without a word (seen as a flaky WatchProblemTest on a loaded
   * machine).
   */
  @Test
  void aWatcherThatFailsBeforeTheRestartThatStartedItIsOverIsRestartedAgain() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<TreeWatcher> self = new java.util.concurrent.atomic.AtomicReference<>();
    failEveryRegistration(attempts);
    TreeWatcher.afterRestartStarted = () -> Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> {
      TreeWatcher t = self.get();
      return t != null && (t.restartPending() || t.problem() != null);
    });
    try (TreeWatcher w = new TreeWatcher(root, Duration.ofMillis(2), Duration.ofMillis(50), Duration.ofMillis(10),
        p -> { }, () -> { }, () -> { }, () -> { })) {
      self.set(w);
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !w.registering());
      assertThat(w.problem()).startsWith("cannot watch " + root);
      assertThat(attempts.get()).isEqualTo(TreeWatcher.MAX_FAILED_REGISTRATIONS + 1);
    } finally {
      TreeWatcher.beforeRegistering = w -> { };
      TreeWatcher.afterRestartStarted = () -> { };
    }
  }

  /** A pause ends by itself once quiet, asks for a full rescan (what changed meanwhile) and watches again. */
  @Test
  void aPauseEndsOnceQuietWithARescanAndTheTreeIsWatchedAgain() throws Exception {
    List<Path> seen = new CopyOnWriteArrayList<>();
    AtomicInteger rescans = new AtomicInteger();
    try (TreeWatcher w = new TreeWatcher(root, Duration.ofMillis(2), Duration.ofMillis(50), Duration.ofMillis(10),
        seen::add, rescans::incrementAndGet, () -> { }, () -> { })) {
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> !w.registering());
      w.pauseUntilQuiet(Duration.ofMillis(200));
      assertThat(w.pauses()).isEqualTo(1);
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> !w.paused() && !w.registering());
      assertThat(rescans.get()).as("a full rescan asked for").isEqualTo(1);
      Files.writeString(root.resolve("after.txt"), "watched again");
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> seen.contains(root.resolve("after.txt")));
    }
  }

  @Test
  void onlyTheTempPrefixCountsAsOurs() {
    assertThat(TreeWatcher.isOwnTempFile(Path.of("/r/a/" + IgnoreRules.TEMP_PREFIX + "x"))).isTrue();
    assertThat(TreeWatcher.isOwnTempFile(Path.of("/r/a/x" + IgnoreRules.TEMP_PREFIX))).isFalse();
    assertThat(TreeWatcher.isOwnTempFile(Path.of("/r/" + IgnoreRules.TEMP_PREFIX + "dir/child"))).isFalse();
    assertThat(TreeWatcher.isOwnTempFile(null)).isFalse();
  }

  /** The library's first walk (its own state) is skipped; the registration's and later ones run. */
  @Test
  void onlyTheLibrarysFirstWalkOfATreeIsSkipped() throws Exception {
    Files.createDirectories(root.resolve("a/b"));
    Files.writeString(root.resolve("a/b/f.txt"), "x");
    TreeWatcher.OneWalk v = new TreeWatcher.OneWalk();
    List<Path> dirs = new CopyOnWriteArrayList<>();
    List<Path> files = new CopyOnWriteArrayList<>();
    v.recursiveVisitFiles(root, dirs::add, files::add);
    assertThat(dirs).isEmpty();
    assertThat(files).isEmpty();
    v.recursiveVisitFiles(root, dirs::add, files::add);
    assertThat(dirs).contains(root, root.resolve("a"), root.resolve("a/b"));
    assertThat(files).containsExactly(root.resolve("a/b/f.txt"));
  }

  /**
   * With that walk skipped, changes are still reported from a directory that was there before
   * the watch (deep in the tree) and from one created after it, with a file written into it
   * at once (Linux registers the new directory, then reports what is already in it).
   */
  @Test
  void changesInOldAndNewSubdirectoriesAreReported() throws Exception {
    Files.createDirectories(root.resolve("old/deep/er"));
    List<Path> seen = new CopyOnWriteArrayList<>();
    try (TreeWatcher w = new TreeWatcher(root, Duration.ofMillis(2), Duration.ofMillis(50), Duration.ofMillis(10),
        seen::add, () -> { }, () -> { }, () -> { })) {
      awaitWatching(seen, root.resolve("old/deep/er"));
      Files.createDirectories(root.resolve("new/sub"));
      Files.writeString(root.resolve("new/sub/made.txt"), "at once");
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> seen.contains(root.resolve("new/sub/made.txt"))
          || seen.contains(root.resolve("new/sub")) || seen.contains(root.resolve("new")));
      Files.writeString(root.resolve("new/sub/later.txt"), "later");
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> seen.contains(root.resolve("new/sub/later.txt")));
    }
  }

  /** Returns once the watch covers {@code dir}: a probe file written there is reported. */
  private static void awaitWatching(List<Path> seen, Path dir) {
    AtomicInteger probes = new AtomicInteger();
    Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
      Files.writeString(dir.resolve("probe-" + probes.incrementAndGet()), "probe");
      return seen.stream().anyMatch(p -> p.getFileName().toString().startsWith("probe-"));
    });
  }
}
