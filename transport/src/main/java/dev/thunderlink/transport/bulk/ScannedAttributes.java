package dev.thunderlink.transport.bulk;

import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;

/**
 * A regular file's attributes as a caller's earlier scan found them, for a {@link PushItem}
 * that also carries the SHA-256 that scan found: the push then sends that version of the file
 * (its size, mtime and executable bit) without a stat of its own before the send or after it.
 * What arrives is still checked: the host hashes what it wrote and installs it only if that is
 * the given SHA-256, so a file changed since the scan fails there ("the source changed since"),
 * and a file that only grew since arrives as the scanned prefix, which is that version.
 *
 * <p>The mirror scans every file it pushes moments before; two stats a file fewer was ~4 % of
 * the workstation daemon's CPU in an initial sync of 20,000 small files.
 */
public record ScannedAttributes(long size, FileTime lastModifiedTime, boolean executable)
    implements BasicFileAttributes {
  public ScannedAttributes {
    if (size < 0) {
      throw new IllegalArgumentException("size: " + size + " (expected: >= 0)");
    }
    java.util.Objects.requireNonNull(lastModifiedTime, "lastModifiedTime");
  }

  @Override
  public FileTime lastAccessTime() {
    return lastModifiedTime;
  }

  @Override
  public FileTime creationTime() {
    return lastModifiedTime;
  }

  @Override
  public boolean isRegularFile() {
    return true;
  }

  @Override
  public boolean isDirectory() {
    return false;
  }

  @Override
  public boolean isSymbolicLink() {
    return false;
  }

  @Override
  public boolean isOther() {
    return false;
  }

  @Override
  public Object fileKey() {
    return null;
  }
}
