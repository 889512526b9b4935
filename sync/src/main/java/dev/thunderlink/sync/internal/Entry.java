package dev.thunderlink.sync.internal;

import java.util.Objects;

/**
 * The synchronised state of one path on one side: kind, content hash (files), executable bit
 * (files) and link target (symlinks). {@code size} and {@code mtimeMillis} travel as metadata
 * but are not part of {@link #sameContent}: two sides agree when kind and content agree. A
 * file's modification time is compared apart ({@link #sameTimes}): a change of it alone (a
 * {@code touch}) propagates without making two equal contents a conflict.
 * Immutable; absence is {@code null}.
 */
public record Entry(Kind kind, String hash, long size, boolean executable, String target, long mtimeMillis) {

  /**
   * An ancestor's time when the two sides agreed on a file's content but not on its time (the
   * same file on both sides before the first sync, or the same edit made on both): no later
   * time matches it, so neither side's time is taken for the other's.
   */
  public static final long UNKNOWN_MTIME = Long.MIN_VALUE;

  public Entry {
    Objects.requireNonNull(kind, "kind");
    if (kind == Kind.FILE && (hash == null || hash.isEmpty())) {
      throw new IllegalArgumentException("hash: " + hash + " (expected: a content hash for a file)");
    }
    if (kind == Kind.SYMLINK && target == null) {
      throw new IllegalArgumentException("target: null (expected: a link target for a symlink)");
    }
    if (kind != Kind.FILE) {
      hash = null;
      size = 0;
      executable = false;
    }
    if (kind != Kind.SYMLINK) {
      target = null;
    }
  }

  public static Entry file(String hash, long size, boolean executable, long mtimeMillis) {
    return new Entry(Kind.FILE, hash, size, executable, null, mtimeMillis);
  }

  public static Entry directory() {
    return new Entry(Kind.DIRECTORY, null, 0, false, null, 0);
  }

  public static Entry symlink(String target) {
    return new Entry(Kind.SYMLINK, null, 0, false, target, 0);
  }

  public boolean isFile() {
    return kind == Kind.FILE;
  }

  public boolean isDirectory() {
    return kind == Kind.DIRECTORY;
  }

  /** True if both are absent, or both hold the same kind and content. */
  public static boolean sameContent(Entry a, Entry b) {
    if (a == null || b == null) {
      return a == b;
    }
    if (a.kind != b.kind) {
      return false;
    }
    switch (a.kind) {
      case FILE:
        return a.hash.equals(b.hash) && a.executable == b.executable;
      case SYMLINK:
        return a.target.equals(b.target);
      default:
        return true;
    }
  }

  /** False only for two files with different modification times (whatever their content). */
  public static boolean sameTimes(Entry a, Entry b) {
    return a == null || b == null || !a.isFile() || !b.isFile() || a.mtimeMillis == b.mtimeMillis;
  }

  /** This file with another modification time. */
  public Entry withMtime(long millis) {
    return new Entry(kind, hash, size, executable, target, millis);
  }

  @Override
  public String toString() {
    switch (kind) {
      case FILE:
        return "file(" + hash.substring(0, Math.min(8, hash.length())) + (executable ? ",x" : "") + ")";
      case SYMLINK:
        return "symlink(" + target + ")";
      default:
        return "dir";
    }
  }
}
