package dev.thunderlink.transport.bulk;

import java.nio.file.Path;

/**
 * Told, on the host, of each file a peer pushed with {@code stage} (left verified under its
 * partial name for the sender's caller to install) as soon as it is verified, with the
 * SHA-256 of the bytes the receiver wrote into it: so that whoever installs the copy in the
 * same process (the mirror's InstallStaged) need not read and hash it again. Only the
 * receiver's own digest is given, never the sender's claim: the receiver computes SHA-256 of
 * what it wrote even when the session verifies with XXH3-128, whose agreement with the sender
 * says nothing cryptographic about the bytes.
 *
 * <p>Called on the connection's disk thread, after the file's mode and mtime are set and
 * before the sender hears the verdict (so before anyone can ask to install it). Implementations
 * must be quick and thread-safe (several connections call at once); what they throw is logged
 * and ignored, never the transfer's failure.
 */
@FunctionalInterface
public interface StagedFileListener {
  /**
   * @param partial the absolute, normalised path of the verified copy (its partial name)
   * @param size its size in bytes
   * @param mtimeMillis the mtime the receiver set on it (the sender's)
   * @param sha256 the SHA-256 of its whole content as the receiver wrote it (32 bytes)
   */
  void verified(Path partial, long size, long mtimeMillis, byte[] sha256);

  /**
   * The largest file this listener has a use for (the mirror hashes a larger pushed copy again
   * anyway, for its block fingerprints): the receiver neither hashes a larger file a second
   * time under XXH3-128 (a 1 GiB push would have cost a SHA-256 of it for nothing) nor tells
   * of it.
   */
  default long largestUseful() {
    return Long.MAX_VALUE;
  }
}
