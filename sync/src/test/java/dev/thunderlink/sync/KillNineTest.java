package dev.thunderlink.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the syncing process during the initial sync of a tree, then a restart: it
 * converges, no temporary file is left under either root, the state databases were not
 * corrupt, and files already verified on the other side are not sent again.
 */
class KillNineTest {
  @TempDir
  Path tmp;

  /** Counts regular files, tolerating entries that vanish while the child renames them. */
  private static long count(Path root) throws IOException {
    long[] n = {0};
    Files.walkFileTree(root, new java.nio.file.SimpleFileVisitor<>() {
      @Override
      public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
        if (attrs.isRegularFile() && !file.getFileName().toString().startsWith(".thunderlink-tmp-")) {
          n[0]++;
        }
        return java.nio.file.FileVisitResult.CONTINUE;
      }

      @Override
      public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
        return java.nio.file.FileVisitResult.CONTINUE;
      }
    });
    return n[0];
  }

  @Test
  void killDuringInitialSyncThenRestartConverges() throws Exception {
    Path a = Files.createDirectories(tmp.resolve("a"));
    Path b = Files.createDirectories(tmp.resolve("b"));
    Path state = tmp.resolve("state");
    Random rnd = new Random(42);
    int files = 3000;
    for (int i = 0; i < files; i++) {
      Path p = a.resolve("d" + (i % 30)).resolve("f" + i + ".bin");
      Files.createDirectories(p.getParent());
      byte[] data = new byte[2048 + rnd.nextInt(8192)];
      rnd.nextBytes(data);
      Files.write(p, data);
    }
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), CrashChild.class.getName(),
        a.toString(), b.toString(), state.toString()).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("child.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    long copied;
    while ((copied = count(b)) < 300) {
      assertThat(child.isAlive()).as("child finished or died before the kill: " + Files.readString(tmp.resolve("child.log")))
          .isTrue();
      assertThat(System.nanoTime()).as("child copied nothing in time").isLessThan(deadline);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    child.destroyForcibly(); // SIGKILL
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    long before = count(b);
    assertThat(before).isLessThan(files);

    SyncSessionConfig c = SyncSessionConfig.builder("crash").localRoot(a).remoteRoot(b.toString()).stateDir(state)
        .deviceName("book").watch(false).build();
    try (SyncSession s = SyncSession.startLocal(c, b, "mini")) {
      s.flush(Duration.ofMinutes(2));
      assertThat(SyncPair.tree(b)).isEqualTo(SyncPair.tree(a));
      // everything already on the other side (complete files are verified by hash) is not sent again
      assertThat(s.status().filesTransferred()).isLessThanOrEqualTo(files - before + 1);
      assertThat(s.status().errors()).isEmpty();
    }
    try (Stream<Path> w = Stream.concat(Files.walk(a), Files.walk(b))) {
      assertThat(w.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".thunderlink-tmp-"));
    }
    try (Stream<Path> w = Files.list(state)) {
      assertThat(w.map(p -> p.getFileName().toString())).as("no database was found corrupt")
          .noneMatch(n -> n.contains(".corrupt-"));
    }
  }
}
