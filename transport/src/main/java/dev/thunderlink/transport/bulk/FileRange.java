package dev.thunderlink.transport.bulk;

import java.util.List;

/**
 * {@code length} bytes of a file from byte {@code offset}. A push or pull given ranges moves
 * only those bytes, back to back, as one file of their total size, verified as such (a delta's
 * changed blocks; the receiving side puts them in place).
 */
public record FileRange(long offset, long length) {
  public FileRange {
    if (offset < 0 || length <= 0) {
      throw new IllegalArgumentException("file range: " + offset + "+" + length
          + " (expected: offset >= 0, length > 0)");
    }
  }

  /** The bytes the ranges hold together. */
  public static long total(List<FileRange> ranges) {
    long n = 0;
    for (FileRange r : ranges) {
      n += r.length();
    }
    return n;
  }
}
