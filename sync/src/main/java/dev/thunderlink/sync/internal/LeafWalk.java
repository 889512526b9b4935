package dev.thunderlink.sync.internal;

import io.methvin.watcher.visitor.FileTreeVisitor;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The directory watcher's walks (registering every directory of a tree with inotify, and
 * reporting what a directory created later already holds), without a stat for every file.
 * The library's own walk ({@code Files.walkFileTree}) stats each entry to tell directories from
 * the rest: 20,000 stats for a tree of 20,000 files and 420 directories, ~4 % of either daemon's
 * CPU in an initial sync, for a registration that only needs the directories.
 *
 * <p>On file systems whose directories count their subdirectories in their link count (2 +
 * subdirectories: ext2/3/4, XFS, tmpfs; GNU find's "leaf optimisation"), once a directory's
 * listing has shown that many subdirectories, everything after them is something else and is
 * reported as a file unlooked-at. If the count changed while the directory was being listed
 * (a subdirectory made or removed meanwhile), every entry not looked at is looked at after all.
 * Elsewhere (Btrfs, whose directories have one link, APFS, anything unknown) each entry is
 * stat-ed, as the library does.
 *
 * <p>The same callbacks as the library's walk: each directory (the start first) to
 * {@code onDirectory}, everything else (symbolic links included, never followed) to
 * {@code onFile}; entries that vanish or cannot be read are skipped.
 */
final class LeafWalk implements FileTreeVisitor {
  /** File systems (as {@link java.nio.file.FileStore#type} names them) whose directories count their subdirectories. */
  static final Set<String> COUNTING = Set.of("ext2", "ext3", "ext4", "xfs", "tmpfs");

  private final Consumer<Path> afterCount;
  /** Whether each device seen counts subdirectories ({@link #countingDevice}); the watch thread's. */
  private final java.util.Map<Object, Boolean> countingDevices = new java.util.concurrent.ConcurrentHashMap<>();

  LeafWalk() {
    this(dir -> { });
  }

  /** @param afterCount runs (tests) between reading a directory's link count and listing it */
  LeafWalk(Consumer<Path> afterCount) {
    this.afterCount = afterCount;
  }

  @Override
  public void recursiveVisitFiles(Path start, Callback onDirectory, Callback onFile) throws IOException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(start, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return; // gone already
    }
    if (!a.isDirectory()) {
      onFile.call(start);
      return;
    }
    directory(start, countingDevice(start), onDirectory, onFile);
  }

  /**
   * The start's device if its file system counts subdirectories, else null: counted there only
   * (not in what is mounted under it). Which devices count is kept: the file store's type comes
   * from the mount table, a read and parse of it per call, and the library walks each directory
   * created under a watched tree (420 for the 20,000-file tree).
   */
  private Object countingDevice(Path start) {
    try {
      Object device = Files.getAttribute(start, "unix:dev", LinkOption.NOFOLLOW_LINKS);
      Boolean counts = countingDevices.get(device);
      if (counts == null) {
        counts = COUNTING.contains(Files.getFileStore(start).type());
        countingDevices.put(device, counts);
      }
      return counts ? device : null;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return null;
    }
  }

  private void directory(Path dir, Object device, Callback onDirectory, Callback onFile) throws IOException {
    onDirectory.call(dir);
    long links = device != null ? links(dir, device) : -1;
    long subdirectoriesLeft = links >= 2 ? links - 2 : -1;
    afterCount.accept(dir);
    List<Path> subdirectories = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    List<Path> unlooked = new ArrayList<>();
    // the callbacks run once the listing is closed, so that a failure of theirs (out of inotify
    // watches) reaches the caller, as from the library's walk, instead of ending the listing
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path child : entries) {
        if (subdirectoriesLeft == 0) {
          unlooked.add(child);
        } else if (look(child, subdirectories, files)) {
          subdirectoriesLeft--;
        }
      }
    } catch (IOException | java.nio.file.DirectoryIteratorException e) {
      // unreadable, or gone: as the library's walk, what was listed before counts, nothing more
    }
    if (!unlooked.isEmpty()) {
      if (links(dir, device) == links) {
        files.addAll(unlooked);
      } else {
        for (Path child : unlooked) {
          look(child, subdirectories, files); // the count moved during the listing: it proves nothing
        }
      }
    }
    for (Path f : files) {
      onFile.call(f);
    }
    for (Path d : subdirectories) {
      directory(d, device, onDirectory, onFile);
    }
  }

  /** Stats {@code child}: true for a directory (added to {@code subdirectories}); anything else joins {@code files}. */
  private static boolean look(Path child, List<Path> subdirectories, List<Path> files) {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(child, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return false; // vanished
    }
    (a.isDirectory() ? subdirectories : files).add(child);
    return a.isDirectory();
  }

  /** The directory's link count, or -1 when it cannot be read or the directory is on another device. */
  private static long links(Path dir, Object device) {
    try {
      java.util.Map<String, Object> a = Files.readAttributes(dir, "unix:nlink,dev", LinkOption.NOFOLLOW_LINKS);
      return device.equals(a.get("dev")) ? ((Number) a.get("nlink")).longValue() : -1;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return -1;
    }
  }
}
