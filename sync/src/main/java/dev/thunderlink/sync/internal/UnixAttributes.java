package dev.thunderlink.sync.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;

/**
 * Mode, device, inode and ctime read from the stat the JDK already made: on Linux and macOS
 * every {@link BasicFileAttributes} the default file system returns is a {@code
 * sun.nio.fs.UnixFileAttributes} holding the whole {@code struct stat} (a basic view's, and a
 * file tree walk's, wrapped in {@code UnixAsBasicFileAttributes}), but only the basic fields
 * are public. A scan took a second stat of every file (the "unix:" view, answered as a
 * map) for the rest; with java.base opening {@code sun.nio.fs} to us (the daemon jar's manifest
 * says {@code Add-Opens}) they are read from the first one.
 *
 * <p>Where the package is not open (another launcher, another JDK), {@link #readable} is false
 * and callers stat again as before. Thread-safe.
 */
final class UnixAttributes {
  private UnixAttributes() {}

  private static final Class<?> TYPE;
  private static final Class<?> WRAPPER;
  private static final MethodHandle UNWRAP;
  private static final MethodHandle MODE;
  private static final MethodHandle DEV;
  private static final MethodHandle INO;
  private static final MethodHandle CTIME;

  static {
    Class<?> type = null;
    Class<?> wrapper = null;
    MethodHandle unwrap = null;
    MethodHandle mode = null;
    MethodHandle dev = null;
    MethodHandle ino = null;
    MethodHandle ctime = null;
    try {
      Class<?> t = Class.forName("sun.nio.fs.UnixFileAttributes");
      MethodHandles.Lookup l = MethodHandles.privateLookupIn(t, MethodHandles.lookup());
      mode = l.findVirtual(t, "mode", MethodType.methodType(int.class)).asType(MethodType.methodType(int.class, Object.class));
      dev = l.findVirtual(t, "dev", MethodType.methodType(long.class)).asType(MethodType.methodType(long.class, Object.class));
      ino = l.findVirtual(t, "ino", MethodType.methodType(long.class)).asType(MethodType.methodType(long.class, Object.class));
      ctime = l.findVirtual(t, "ctime", MethodType.methodType(FileTime.class))
          .asType(MethodType.methodType(FileTime.class, Object.class));
      Class<?> w = Class.forName("sun.nio.fs.UnixFileAttributes$UnixAsBasicFileAttributes");
      unwrap = MethodHandles.privateLookupIn(w, MethodHandles.lookup()).findVirtual(w, "unwrap", MethodType.methodType(t))
          .asType(MethodType.methodType(Object.class, Object.class));
      wrapper = w;
      type = t;
    } catch (ReflectiveOperationException | RuntimeException e) {
      // not open to us (IllegalAccessException), or not this JDK's class: callers stat again
      type = null;
    }
    TYPE = type;
    WRAPPER = wrapper;
    UNWRAP = unwrap;
    MODE = mode;
    DEV = dev;
    INO = ino;
    CTIME = ctime;
  }

  /** Whether {@code a} carries the whole stat and it can be read here. */
  static boolean readable(BasicFileAttributes a) {
    return TYPE != null && (TYPE.isInstance(a) || WRAPPER.isInstance(a));
  }

  /** The JDK's stat inside {@code a} (which {@link #readable} accepted). */
  private static Object stat(BasicFileAttributes a) throws Throwable {
    return TYPE.isInstance(a) ? a : (Object) UNWRAP.invokeExact((Object) a);
  }

  /** Whether the JDK's stat can be read at all here (else callers need not stat in the hope of it). */
  static boolean available() {
    return TYPE != null;
  }

  /** The fields a scan needs beyond the basic ones. */
  record Stat(int mode, long dev, long ino, FileTime ctime) {
    boolean ownerExecute() {
      return (mode & 0100) != 0;
    }
  }

  /** Mode, device, inode and ctime from {@code a} (which {@link #readable} accepted). */
  static Stat of(BasicFileAttributes a) {
    try {
      Object st = stat(a);
      return new Stat((int) MODE.invokeExact(st), (long) DEV.invokeExact(st), (long) INO.invokeExact(st),
          (FileTime) CTIME.invokeExact(st));
    } catch (Throwable t) {
      throw new IllegalStateException("reading the JDK's stat", t);
    }
  }
}
