package dev.thunderlink.sync;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A faster way for file content to travel between the workstation and the host than the
 * mirror's gRPC calls: the workstation daemon's bulk plane, in both directions. A session
 * pushes each small file it sends to a temporary name beside its destination on the host, then
 * asks the host (over gRPC) to check the copy against the scanned content hash, re-check the
 * destination and rename the copy into place; it pulls each file it fetches from the host to a
 * temporary name beside its local destination and installs it with the same checks. So every
 * safety rule of a write still holds. Files the pusher cannot deliver go by gRPC.
 *
 * <p>Implementations are thread-safe (they may serialise transfers).
 */
public interface FilePusher {
  /**
   * A workstation file and a host file, one the copy of the other.
   *
   * @param local on the workstation: the source of a push, the (temporary) destination of a pull
   * @param hostPath absolute on the host: the (temporary) destination of a push, the source of a pull
   * @param size the bytes to move: the source's size as scanned, or the ranges' total
   * @param ranges null to move the whole file, or the only {@code [offset, length]} ranges of the
   *     source to move: the destination gets those bytes back to back (a delta's changed blocks)
   * @param sha256 for a whole file pushed, the SHA-256 (hex) its content had when scanned, or
   *     null: the pusher then need not hash what it sends, since the host checks what it wrote
   *     against this (a file changed since fails there)
   * @param mtimeMillis with {@code sha256}, the mtime the file had when scanned, or -1: the
   *     pusher then sends the scanned version as such ({@code size} bytes, this mtime and
   *     {@code executable}) without looking at the file's attributes again; the content hash
   *     still decides whether what arrived is that version
   * @param executable with {@code sha256} and an mtime, the executable bit as scanned
   */
  record Item(Path local, String hostPath, long size, List<long[]> ranges, String sha256, long mtimeMillis,
      boolean executable) {
    public Item(Path local, String hostPath, long size, List<long[]> ranges, String sha256) {
      this(local, hostPath, size, ranges, sha256, -1, false);
    }

    public Item(Path local, String hostPath, long size, List<long[]> ranges) {
      this(local, hostPath, size, ranges, null);
    }

    public Item(Path local, String hostPath, long size) {
      this(local, hostPath, size, null, null);
    }
  }

  /**
   * Sends the files, pipelined. One element per item, in order: null when the file arrived
   * and was verified, else a one-line reason it did not. The verified copy is at its host path
   * or, left there for InstallStaged to rename straight into place, at the bulk plane's partial
   * name beside it ({@code .NAME.tlpart}); the host's InstallStaged looks for both.
   *
   * @throws IOException the plane cannot be used now (it cannot be opened, or was lost); the
   *     caller sends the files another way and tries the plane again later
   */
  List<String> push(List<Item> items) throws IOException;

  /**
   * Fetches the host's files to their local paths, pipelined; results and failure as for
   * {@link #push}. A file that did not arrive leaves nothing behind (no partial copy). The host
   * serves only files under its permitted roots.
   */
  List<String> pull(List<Item> items) throws IOException;
}
