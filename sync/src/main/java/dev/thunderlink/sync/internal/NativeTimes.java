package dev.thunderlink.sync.internal;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;

/**
 * Sets a file's modification time, its access time left as it is: on Linux with one {@code
 * utimensat} by path (through JNA, a link's own time, never its target's). The JDK's {@link
 * Files#setLastModifiedTime} opens the file, reads its attributes (to keep the access time),
 * sets the times on the descriptor and closes it: four system calls, which every file the
 * mirror writes paid for (a pulled tree of 20,000 files, 80,000 calls on the workstation). Where
 * that call is not bound (not Linux, JNA or the C library's calls not loading: {@link
 * ExclusiveRename#linux64}), on another file system such as Jimfs, or where it
 * fails for any reason but a missing file, through the JDK, whose exception then says why.
 *
 * <p>Thread-safe.
 */
final class NativeTimes {
  private NativeTimes() {}

  private static final int AT_FDCWD = -100;
  private static final int AT_SYMLINK_NOFOLLOW = 0x100;
  /** The timespec nanoseconds that leave a time as it is. */
  private static final long UTIME_OMIT = (1L << 30) - 2L;
  private static final int ENOENT = 2;

  /** Sets {@code p}'s modification time to {@code mtime}. */
  static void setModified(Path p, FileTime mtime) throws IOException {
    if (ExclusiveRename.linux64(p)) {
      Instant t = mtime.toInstant();
      long[] times = {0, UTIME_OMIT, t.getEpochSecond(), t.getNano()}; // struct timespec[2] {atime, mtime}
      try {
        ExclusiveRename.Linux.utimensat(AT_FDCWD, ExclusiveRename.cPath(p), times, AT_SYMLINK_NOFOLLOW);
        return;
      } catch (LastErrorException e) {
        if (e.getErrorCode() == ENOENT) {
          throw new NoSuchFileException(p.toString());
        }
        // anything else: the JDK's call below fails the same way, in its words
      }
    }
    Files.setLastModifiedTime(p, mtime);
  }
}
