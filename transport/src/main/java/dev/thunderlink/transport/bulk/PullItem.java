package dev.thunderlink.transport.bulk;

import dev.thunderlink.transport.bulk.internal.BulkConnection;
import java.nio.file.Path;
import java.util.List;

/**
 * One host file to fetch.
 *
 * @param remotePath the file on the host
 * @param local where it goes (written atomically; a kept partial is resumed)
 * @param size its size as listed (for progress)
 * @param ranges null to fetch the file, or the only bytes of it to fetch ({@link FileRange}):
 *     then {@code local} gets those bytes back to back (a fresh copy, never resumed)
 */
public record PullItem(String remotePath, Path local, long size, List<FileRange> ranges) {
  public PullItem {
    ranges = ranges == null ? null : List.copyOf(ranges);
  }

  public PullItem(String remotePath, Path local, long size) {
    this(remotePath, local, size, null);
  }

  /** Where its bytes collect until it is complete and verified (kept when a new session may resume it). */
  public Path partial() {
    return BulkConnection.partialPath(local);
  }
}
