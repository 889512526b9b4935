package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batched whole-file write on a full disk (a real small tmpfs, so it needs root; skipped
 * otherwise, saying so): it refuses with the one-line "disk full on DEVICE: N bytes needed at
 * PATH" like an upload, whether the free-space check sees it coming or the kernel says ENOSPC
 * (out of inodes), and leaves no temporary file; what landed before the refusal is whole.
 */
class WholeFileDiskFullTest {
  @TempDir
  Path tmp;

  private final List<Path> mounts = new ArrayList<>();

  @AfterEach
  void unmount() throws Exception {
    for (Path m : mounts) {
      new ProcessBuilder("umount", m.toString()).redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private Path tmpfs(String name, String options) throws IOException, InterruptedException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    boolean root = "root".equals(System.getProperty("user.name"));
    assumeTrue(root, "needs root to mount a small tmpfs");
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.toString())
        .redirectErrorStream(true).start();
    assumeTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mount -t tmpfs failed");
    mounts.add(dir);
    return dir;
  }

  private static Endpoint.WholeFile whole(String path, int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return new Endpoint.WholeFile(path, null, Entry.file(ContentHash.of(b), size, false, 0), b);
  }

  private static void assertNoTempFiles(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(IgnoreRules.TEMP_PREFIX));
    }
  }

  @Test
  void aFileThatDoesNotFitIsRefusedWithTheBytesNeeded() throws Exception {
    Path root = tmpfs("small", "size=512k");
    Files.write(root.resolve("filler"), new byte[300 * 1024]);
    try (DiskEndpoint side = DiskEndpoint.open(root, tmp.resolve("a.db"), DiskEndpoint.Options.defaults("mini"), false)) {
      Endpoint.WholeFile fits = whole("fits.bin", 100 * 1024, 1);
      assertThatThrownBy(() -> side.writeFiles(List.of(fits, whole("big.bin", 200 * 1024, 2)), 4096))
          .isInstanceOf(Endpoint.DiskFullException.class)
          .hasMessageStartingWith("disk full on mini: 204800 bytes needed at " + root.resolve("big.bin") + " (")
          .hasMessageContaining(" bytes free)");
      assertThat(Files.readAllBytes(root.resolve("fits.bin"))).isEqualTo(fits.data());
      assertThat(root.resolve("big.bin")).doesNotExist();
      assertNoTempFiles(root);
    }
  }

  @Test
  void noSpaceFromTheKernelBecomesDiskFull() throws Exception {
    Path root = tmpfs("inodes", "size=4m,nr_inodes=4");
    try (DiskEndpoint side = DiskEndpoint.open(root, tmp.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false)) {
      List<Endpoint.WholeFile> files = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        files.add(whole("f" + i, 1000, i));
      }
      assertThatThrownBy(() -> side.writeFiles(files, 4096))
          .isInstanceOf(Endpoint.DiskFullException.class)
          // a tmpfs of 4 inodes: out of files, not of space, and the message says which
          .hasMessageStartingWith("disk full on mini: no free inodes left for a new file at " + root.resolve("f"))
          .hasMessageContaining("bytes free, but the file system can make no more files")
          .satisfies(e -> assertThat(e.getCause()).as("the kernel's error, not the free-space check")
              .hasMessageContaining("No space left on device"));
      assertNoTempFiles(root);
      for (Endpoint.WholeFile f : files) {
        Path p = root.resolve(f.path());
        if (Files.exists(p)) {
          assertThat(Files.readAllBytes(p)).isEqualTo(f.data());
        }
      }
    }
  }

  /**
   * The free space in a "disk full" message is read after the write failed: when it is more
   * than the write needed, other writes held it then, and the message says so instead of
   * leaving "5 bytes needed (126976 bytes free)" to puzzle over.
   */
  @Test
  void aDiskFullMessageExplainsFreeSpaceThatCameBack() {
    Path at = Path.of("/data/b/note.txt");
    assertThat(DiskEndpoint.diskFullMessage("mini", 307200, at, 126976))
        .isEqualTo("disk full on mini: 307200 bytes needed at /data/b/note.txt (126976 bytes free)");
    assertThat(DiskEndpoint.diskFullMessage("mini", 5, at, 126976))
        .isEqualTo("disk full on mini: 5 bytes needed at /data/b/note.txt"
            + " (126976 bytes free now: other writes held the space when this one failed)");
    assertThat(DiskEndpoint.diskFullMessage("mini", 0, at, 4096)).endsWith("at /data/b/note.txt (4096 bytes free)");
    assertThat(DiskEndpoint.diskFullMessage("mini", 5, at, -1)).isEqualTo("disk full on mini: 5 bytes needed at /data/b/note.txt");
    // out of inodes: gigabytes free, and no new file can be made
    assertThat(DiskEndpoint.diskFullMessage("mini", 12416, at, 1098715136, 0)).isEqualTo("disk full on mini: no free"
        + " inodes left for a new file at /data/b/note.txt (1098715136 bytes free, but the file system can make no more"
        + " files); delete files on that file system");
    assertThat(DiskEndpoint.diskFullMessage("mini", 5, at, 126976, 40000)).isEqualTo(DiskEndpoint.diskFullMessage("mini", 5, at, 126976));
  }
}
