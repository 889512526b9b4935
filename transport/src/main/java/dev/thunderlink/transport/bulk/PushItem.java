package dev.thunderlink.transport.bulk;

import dev.thunderlink.proto.bulk.FileEntry;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/**
 * One local file to send.
 *
 * @param local the file
 * @param remotePath where it goes on the host
 * @param remote what the host has there (from {@link BulkSession#stat}), or null to send
 *     unconditionally; decides skip (same size, mtime, executable bit) and resume
 * @param attributes the file's attributes as the caller just read them (not following links;
 *     {@link java.nio.file.attribute.PosixFileAttributes} to carry the executable bit without
 *     another look), or null to have them read when the file is sent. A file that changes after
 *     they were read is refused as changed while sent, so pass them only fresh; or, with
 *     {@code sha256}, the {@link ScannedAttributes} of the scan that hashed it, to send that
 *     version without a stat
 * @param ranges null to send the file, or the only bytes of it to send ({@link FileRange}):
 *     then {@code remotePath} gets those bytes back to back, never skipped nor resumed
 * @param sha256 the SHA-256 the file's content has (the mirror's scan of it), or null. Given
 *     (and no ranges), the file is not hashed as it is sent: the host checks what it wrote against
 *     this instead, so a file changed since fails there, and nothing lands under its name
 */
public record PushItem(
    Path local, String remotePath, FileEntry remote, BasicFileAttributes attributes, List<FileRange> ranges,
    byte[] sha256) {
  public PushItem {
    ranges = ranges == null ? null : List.copyOf(ranges);
    if (sha256 != null && sha256.length != 32) {
      throw new IllegalArgumentException("sha256: " + sha256.length + " bytes (expected: 32)");
    }
    if (attributes instanceof ScannedAttributes && (sha256 == null || ranges != null)) {
      throw new IllegalArgumentException("scanned attributes of " + local
          + " (expected: with the scan's sha256, for the whole file)");
    }
  }

  public PushItem(
      Path local, String remotePath, FileEntry remote, BasicFileAttributes attributes, List<FileRange> ranges) {
    this(local, remotePath, remote, attributes, ranges, null);
  }

  public PushItem(Path local, String remotePath, FileEntry remote, BasicFileAttributes attributes) {
    this(local, remotePath, remote, attributes, null);
  }

  public PushItem(Path local, String remotePath, FileEntry remote) {
    this(local, remotePath, remote, null, null);
  }
}
