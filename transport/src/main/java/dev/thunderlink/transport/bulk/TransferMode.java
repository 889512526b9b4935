package dev.thunderlink.transport.bulk;

import dev.thunderlink.proto.bulk.Mode;
import java.util.Locale;

/** How a file's bytes travel; chosen per file by the sender. */
public enum TransferMode {
  /** {@code DefaultFileRegion}: sendfile on epoll/io_uring/kqueue, transferTo on NIO. Plaintext only. */
  ZERO_COPY(Mode.MODE_ZERO_COPY),
  /** LZ4 blocks (plaintext or inside TLS). */
  LZ4(Mode.MODE_LZ4),
  /** Read into a buffer, written from it (small files on plaintext). */
  HEAP(Mode.MODE_HEAP),
  /** Raw bytes through TLS: read into a buffer, encrypted, no sendfile. */
  TLS(Mode.MODE_TLS);

  private final Mode wire;

  TransferMode(Mode wire) {
    this.wire = wire;
  }

  public Mode wire() {
    return wire;
  }

  public static TransferMode of(Mode m) {
    for (TransferMode t : values()) {
      if (t.wire == m) {
        return t;
      }
    }
    return HEAP;
  }

  public String cliName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
