package dev.thunderlink.transport.bulk;

import dev.thunderlink.transport.bulk.internal.BulkConnection;
import java.nio.file.Path;

/**
 * One host file to fetch.
 *
 * @param remotePath the file on the host
 * @param local where it goes (written atomically; a kept partial is resumed)
 * @param size its size as listed (for progress)
 */
public record PullItem(String remotePath, Path local, long size) {
  /** Where its bytes collect until it is complete and verified (kept when a new session may resume it). */
  public Path partial() {
    return BulkConnection.partialPath(local);
  }
}
