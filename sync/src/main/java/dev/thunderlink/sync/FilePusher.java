package dev.thunderlink.sync;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A faster way for file content to reach the host than the mirror's gRPC calls: the
 * workstation daemon's bulk plane. A session pushes each small file it sends to a temporary
 * name beside its destination on the host, then asks the host (over gRPC) to check the copy
 * against the scanned content hash, re-check the destination and rename the copy into place,
 * so every safety rule of a write still holds. Files the pusher cannot deliver go by gRPC.
 *
 * <p>Implementations are thread-safe (they may serialise pushes).
 */
public interface FilePusher {
  /** A local file to put at an absolute path on the host. */
  record Item(Path local, String hostPath) {}

  /**
   * Sends the files, pipelined. One element per item, in order: null when the file arrived
   * and was verified at its host path, else a one-line reason it did not.
   *
   * @throws IOException the plane cannot be used now (it cannot be opened, or was lost); the
   *     caller sends the files another way and tries the plane again later
   */
  List<String> push(List<Item> items) throws IOException;
}
