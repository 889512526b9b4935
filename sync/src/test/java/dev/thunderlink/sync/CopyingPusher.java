package dev.thunderlink.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bulk plane for tests of the mirror where host and workstation share this disk: copies like
 * the bulk plane's receiver, both ways (an item with ranges: only those bytes, back to back);
 * hooks run around each file (given its source, its copy). The daemon's tests run the real one.
 */
public final class CopyingPusher implements FilePusher {
  volatile IOException failWith;
  /** Pushes are staged (left at the partial name, as the daemon's pusher asks), unless this is cleared. */
  volatile boolean stages = true;
  volatile java.util.function.Consumer<Path> beforeCopy = p -> { };
  public volatile java.util.function.Consumer<Path> afterCopy = p -> { };
  public final AtomicInteger pushed = new AtomicInteger();
  final AtomicInteger pulled = new AtomicInteger();

  @Override
  public List<String> push(List<Item> items) throws IOException {
    return copy(items, true);
  }

  @Override
  public List<String> pull(List<Item> items) throws IOException {
    return copy(items, false);
  }

  private List<String> copy(List<Item> items, boolean push) throws IOException {
    if (failWith != null) {
      throw failWith;
    }
    List<String> out = new ArrayList<>();
    for (Item i : items) {
      Path from = push ? i.local() : Path.of(i.hostPath());
      Path dest = push ? Path.of(i.hostPath()) : i.local();
      beforeCopy.accept(from);
      Path part = dest.resolveSibling("." + dest.getFileName() + ".tlpart");
      if (i.ranges() == null) {
        Files.copy(from, part);
      } else {
        byte[] all = Files.readAllBytes(from);
        try (java.io.OutputStream o = Files.newOutputStream(part, java.nio.file.StandardOpenOption.CREATE_NEW)) {
          for (long[] r : i.ranges()) {
            o.write(all, (int) r[0], (int) r[1]);
          }
        }
      }
      Files.setLastModifiedTime(part, Files.getLastModifiedTime(from));
      Files.setPosixFilePermissions(part, Files.getPosixFilePermissions(from));
      if (push && stages && i.ranges() == null) { // a delta's blocks land at their path, as the plane does
        afterCopy.accept(part);
      } else {
        Files.move(part, dest, StandardCopyOption.ATOMIC_MOVE);
        afterCopy.accept(dest);
      }
      (push ? pushed : pulled).incrementAndGet();
      out.add(null);
    }
    return out;
  }
}
