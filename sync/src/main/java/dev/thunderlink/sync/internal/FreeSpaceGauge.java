package dev.thunderlink.sync.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;

/**
 * Free space where files are about to be written, for the full-disk check before each write.
 * Asking the file system is not cheap (on Linux {@code Files.getFileStore} reads the mount
 * table before the statfs): asked per file it was 40% of the host's write time in an
 * initial sync of 20,000 small files. So a directory's figure is asked at most once per
 * {@link #MAX_AGE_NANOS} or per {@link #MAX_WRITTEN_BYTES} reserved there, and counted down
 * by each reservation in between, which keeps it on the safe side.
 *
 * <p>A write is never refused on an estimate: when the estimate says it does not fit, the
 * file system is asked again first. Space taken by others in between is not seen until the
 * next refresh; the kernel's own "no space" error still stops that write (the endpoint turns
 * it into a {@link Endpoint.DiskFullException}), so this only decides how early a full disk
 * is caught, never whether.
 *
 * <p>Threads: any; guarded by this object.
 */
final class FreeSpaceGauge {
  static final long MAX_AGE_NANOS = TimeUnit.SECONDS.toNanos(1);
  static final long MAX_WRITTEN_BYTES = 64L << 20;
  /** Directories remembered at once; beyond that the map starts over (a tree's writes come clustered). */
  static final int MAX_DIRECTORIES = 1024;

  private final ToLongFunction<Path> query;
  private final LongSupplier nanoClock;
  private final Map<Path, Reading> readings = new HashMap<>(); // guarded by this
  /** How many times the file system was asked (tests check it is rare). */
  final AtomicLong queries = new AtomicLong();

  private static final class Reading {
    long free;
    long atNanos;
    long reserved;
  }

  /** Asks the real file system ({@link java.nio.file.FileStore#getUsableSpace}). */
  FreeSpaceGauge() {
    this(FreeSpaceGauge::usableSpace, System::nanoTime);
  }

  /**
   * @param query free bytes for this process where a directory lives, or -1 if unknown
   */
  FreeSpaceGauge(ToLongFunction<Path> query, LongSupplier nanoClock) {
    this.query = query;
    this.nanoClock = nanoClock;
  }

  /**
   * Free bytes in {@code dir} for a write of {@code bytes} (-1: the file system does not say),
   * and that write counted against the estimate. The caller refuses the write if the answer
   * is below {@code bytes}; such an answer is always a fresh one.
   */
  synchronized long reserve(Path dir, long bytes) {
    long now = nanoClock.getAsLong();
    Reading r = readings.get(dir);
    if (r == null || now - r.atNanos > MAX_AGE_NANOS || r.reserved > MAX_WRITTEN_BYTES
        || (r.free >= 0 && r.free - r.reserved < bytes)) {
      if (r == null) {
        if (readings.size() >= MAX_DIRECTORIES) {
          readings.clear();
        }
        r = new Reading();
        readings.put(dir, r);
      }
      queries.incrementAndGet();
      r.free = query.applyAsLong(dir);
      r.atNanos = now;
      r.reserved = 0;
    }
    if (r.free < 0) {
      return -1;
    }
    long left = r.free - r.reserved;
    if (left >= bytes) {
      r.reserved += bytes;
    }
    return left;
  }

  /** Free space for this process where {@code dir} lives, asked now, or -1 if the file system does not say. */
  static long usableSpace(Path dir) {
    if (dir.getFileSystem() == java.nio.file.FileSystems.getDefault()) {
      // one statfs of the directory itself, where getFileStore reads the whole mount table first
      // (~1 % of a side's CPU in a 20,000-file sync, 420 directories); 0 is also File's answer for
      // a path that is not there, so that one is asked the long way, which tells the two apart
      long free = dir.toFile().getUsableSpace();
      if (free > 0) {
        return free;
      }
    }
    try {
      return Files.getFileStore(dir).getUsableSpace();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * Files that can still be made in {@code dir}'s file system (its free inodes, statvfs's
   * {@code f_favail}), or -1 if unknown (not 64-bit Linux, JNA not loading, another file system
   * such as Jimfs, or the call failing). A disk out of inodes refuses every new file with the
   * same "no space" error as a full one, with gigabytes free: the message must say which.
   */
  static long freeInodes(Path dir) {
    if (!ExclusiveRename.linux64(dir)) {
      return -1;
    }
    long[] st = new long[16]; // struct statvfs: 11 longs and 6 ints on 64-bit Linux (112 bytes), room to spare
    try {
      ExclusiveRename.Linux.statvfs(ExclusiveRename.cPath(dir), st);
    } catch (com.sun.jna.LastErrorException e) {
      return -1;
    }
    long files = st[5];
    long favail = st[7];
    return files > 0 && favail >= 0 && favail <= files ? favail : -1; // a file system without inode counts says 0 of 0
  }
}
