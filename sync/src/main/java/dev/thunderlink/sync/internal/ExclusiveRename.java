package dev.thunderlink.sync.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.nio.charset.Charset;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A rename that never replaces what is at its destination: {@code renameat2(RENAME_NOREPLACE)}
 * on Linux, {@code renamex_np(RENAME_EXCL)} on macOS, through JNA. Installing a new file was a
 * stat of the destination (to see that nothing is there) and then a rename that replaces
 * whatever is: a file a user created in between was overwritten, and the stat of a name
 * that is not there cost a thrown exception in the JDK, ~8 µs a file (a sixth of what the
 * host did to install each file of an initial sync). One call now does both, atomically.
 *
 * <p>Where neither call exists (another system, JNA not loading, a file system without the
 * flag) the caller falls back to the stat and the plain rename. Thread-safe.
 */
final class ExclusiveRename {
  private ExclusiveRename() {}

  /** What {@link #rename} did. */
  enum Result {
    /** Renamed: the destination did not exist. */
    RENAMED,
    /** Nothing was done: something (anything, a dangling link too) is at the destination. */
    EXISTS,
    /** Nothing was done: this system or file system has no exclusive rename; use another way. */
    UNSUPPORTED
  }

  private static final int AT_FDCWD = -100;
  private static final int RENAME_NOREPLACE = 1; // Linux
  private static final int RENAME_EXCL = 0x4; // macOS
  private static final int EPERM = 1;
  private static final int ENOENT = 2;
  private static final int EACCES = 13;
  private static final int EEXIST = 17;
  private static final int ENOTDIR = 20;
  private static final int EISDIR = 21;
  private static final int EINVAL = 22;
  private static final int ENOSYS_LINUX = 38;
  private static final int ENOTSUP_MAC = 45;
  private static final int ENOSYS_MAC = 78;

  private static final int KIND = bind();
  private static final int NONE = 0;
  private static final int LINUX = 1;
  private static final int MAC = 2;

  /** Whether the exclusive rename is bound here (files on the default file system only). */
  static boolean available(Path p) {
    return KIND != NONE && p.getFileSystem() == FileSystems.getDefault();
  }

  /**
   * Renames {@code from} to {@code to} unless something is at {@code to}.
   *
   * @throws NoSuchFileException if {@code from} or {@code to}'s directory is not there
   * @throws FileSystemException for any other failure, its reason as the JDK words it where
   *     callers look at it ("Not a directory", "Is a directory")
   */
  static Result rename(Path from, Path to) throws FileSystemException {
    if (!available(from) || !available(to)) {
      return Result.UNSUPPORTED;
    }
    try {
      if (KIND == LINUX) {
        Linux.renameat2(AT_FDCWD, cPath(from), AT_FDCWD, cPath(to), RENAME_NOREPLACE);
      } else {
        Mac.renamex_np(cPath(from), cPath(to), RENAME_EXCL);
      }
      return Result.RENAMED;
    } catch (LastErrorException e) {
      int errno = e.getErrorCode();
      if (errno == EEXIST) {
        return Result.EXISTS;
      }
      if (errno == EINVAL || (KIND == LINUX && errno == ENOSYS_LINUX)
          || (KIND == MAC && (errno == ENOTSUP_MAC || errno == ENOSYS_MAC))) {
        return Result.UNSUPPORTED; // a file system (or kernel) without the flag
      }
      throw failed(from, to, errno);
    }
  }

  private static FileSystemException failed(Path from, Path to, int errno) {
    switch (errno) {
      case ENOENT:
        return new NoSuchFileException(from.toString(), to.toString(), "No such file or directory");
      case ENOTDIR:
        return new FileSystemException(from.toString(), to.toString(), "Not a directory");
      case EISDIR:
        return new FileSystemException(from.toString(), to.toString(), "Is a directory");
      case EPERM:
      case EACCES:
        return new java.nio.file.AccessDeniedException(from.toString(), to.toString(), "Permission denied");
      default:
        return new FileSystemException(from.toString(), to.toString(), "rename failed (errno " + errno + ")");
    }
  }

  /** The path's bytes as the JDK passes them to the kernel (sun.jnu.encoding), NUL-ended. */
  static byte[] cPath(Path p) {
    byte[] b = p.toString().getBytes(JNU);
    return Arrays.copyOf(b, b.length + 1);
  }

  private static final Charset JNU = Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));

  private static int bind() {
    try {
      if (Platform.isLinux()) {
        Native.register(Linux.class, Platform.C_LIBRARY_NAME);
        return LINUX;
      }
      if (Platform.isMac()) {
        Native.register(Mac.class, Platform.C_LIBRARY_NAME);
        return MAC;
      }
    } catch (LinkageError | RuntimeException e) {
      // an old C library (renameat2 came with glibc 2.28) or no JNA: the caller's fallback
    }
    return NONE;
  }

  /**
   * Whether {@link Linux}'s calls that take structs of longs ({@code utimensat}, {@code statvfs})
   * can be made for {@code p}: Linux's C library bound, 64-bit (where those structs are longs
   * only), and {@code p} on the default file system (not Jimfs).
   */
  static boolean linux64(Path p) {
    return KIND == LINUX && Platform.is64Bit() && p.getFileSystem() == FileSystems.getDefault();
  }

  /** JNA direct mapping of Linux's C library: the calls the mirror makes through it (see {@link NativeTimes}). */
  static final class Linux {
    private Linux() {}

    static native int renameat2(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags)
        throws LastErrorException;

    static native int utimensat(int dirfd, byte[] path, long[] times, int flags) throws LastErrorException;

    static native int statvfs(byte[] path, long[] buf) throws LastErrorException;
  }

  /** JNA direct mapping of macOS's C library. */
  private static final class Mac {
    static native int renamex_np(byte[] from, byte[] to, int flags) throws LastErrorException;
  }
}
