package dev.thunderlink.transport.bulk.internal;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;

/**
 * Sets a file's modification and access times. On Linux with one {@code utimensat} by path
 * (through JNA, links not followed): the JDK's {@link BasicFileAttributeView#setTimes} opens
 * the file, sets the times on the descriptor and closes it again, three system calls, which
 * every received file of a tree paid for. Elsewhere, or when that call fails or JNA cannot
 * load, through the JDK (whose exception then says why).
 *
 * <p>Thread-safe.
 */
final class FileTimes {
  private FileTimes() {}

  /** Linux's AT_FDCWD: a relative path is taken from the working directory. */
  private static final int AT_FDCWD = -100;
  /** Linux's AT_SYMLINK_NOFOLLOW: a link's own times. */
  private static final int AT_SYMLINK_NOFOLLOW = 0x100;

  /** Whether the C library's call is bound (once): false where not Linux or JNA failed to load. */
  private static final boolean NATIVE = bind();

  /** Sets the times of {@code file} (a regular file or directory, not a link). */
  static void set(Path file, FileTime modified, FileTime accessed) throws IOException {
    if (setNative(file, modified, accessed)) {
      return;
    }
    Files.getFileAttributeView(file, BasicFileAttributeView.class).setTimes(modified, accessed, null);
  }

  /** Whether the one native call was made and succeeded (package-private for tests). */
  static boolean setNative(Path file, FileTime modified, FileTime accessed) {
    if (!NATIVE || file.getFileSystem() != FileSystems.getDefault()) {
      return false;
    }
    // struct timespec[2] {atime, mtime}: two 64-bit fields each on 64-bit Linux
    long[] times = {
      accessed.toInstant().getEpochSecond(), accessed.toInstant().getNano(),
      modified.toInstant().getEpochSecond(), modified.toInstant().getNano()
    };
    return C.utimensat(AT_FDCWD, cPath(file), times, AT_SYMLINK_NOFOLLOW) == 0;
  }

  /** The path's bytes as the JDK passes them to the kernel (sun.jnu.encoding), NUL-ended. */
  private static byte[] cPath(Path file) {
    byte[] b = file.toString().getBytes(JNU);
    return Arrays.copyOf(b, b.length + 1);
  }

  private static final Charset JNU = Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));

  private static boolean bind() {
    if (!Platform.isLinux() || !Platform.is64Bit()) {
      return false;
    }
    try {
      Native.register(C.class, Platform.C_LIBRARY_NAME);
      return true;
    } catch (LinkageError | RuntimeException e) {
      return false;
    }
  }

  /** JNA direct mapping of the C library. */
  private static final class C {
    static native int utimensat(int dirfd, byte[] path, long[] times, int flags);
  }
}
