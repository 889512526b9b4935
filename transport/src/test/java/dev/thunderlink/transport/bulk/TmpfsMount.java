package dev.thunderlink.transport.bulk;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Mounts a size-limited tmpfs for full-disk tests (root only). */
final class TmpfsMount {
  private TmpfsMount() {}

  static boolean mount(Path dir, String size) throws IOException, InterruptedException {
    if (!"root".equals(System.getProperty("user.name"))) {
      return false;
    }
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
        .redirectErrorStream(true).start();
    return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
  }

  static void unmount(Path dir) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("umount", dir.toString()).redirectErrorStream(true).start();
    p.waitFor(10, TimeUnit.SECONDS);
  }
}
