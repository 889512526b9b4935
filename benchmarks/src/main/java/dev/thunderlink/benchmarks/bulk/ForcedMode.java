package dev.thunderlink.benchmarks.bulk;

import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.TransferMode;

/**
 * A bulk-plane mode as the benchmarks force it, whatever the sender would pick for the payload:
 * the one definition behind the JMH {@link BulkModeBenchmark} and {@code thunderlink bench}'s
 * {@code bulk-modes} suite. A mode is forced on the sender's side ({@link BulkConfig#forceMode()});
 * the plaintext modes also need a path the host allows plaintext on, so the client declares its
 * path as Thunderbolt for them ({@link #declaredKind}), and TLS turns plaintext off so even a
 * Thunderbolt path encrypts. Over an emulated Wi-Fi path the plaintext modes are therefore a
 * what-if: a real Wi-Fi path always runs TLS (a real host refuses plaintext there).
 */
public enum ForcedMode {
  /** sendfile ({@code DefaultFileRegion}), plaintext. */
  ZERO_COPY(TransferMode.ZERO_COPY),
  /** read into a heap buffer, written from it, plaintext. */
  HEAP(TransferMode.HEAP),
  /** LZ4 blocks; plaintext on a Thunderbolt path, inside TLS elsewhere. */
  LZ4(TransferMode.LZ4),
  /** raw bytes through TLS 1.3, on every path. */
  TLS(TransferMode.TLS);

  private final TransferMode mode;

  ForcedMode(TransferMode mode) {
    this.mode = mode;
  }

  public TransferMode mode() {
    return mode;
  }

  /** {@code zero-copy}, {@code heap}, {@code lz4}, {@code tls}. */
  public String cliName() {
    return mode.cliName();
  }

  /** @throws IllegalArgumentException naming the value and the choices */
  public static ForcedMode parse(String name) {
    for (ForcedMode m : values()) {
      if (m.cliName().equals(name)) {
        return m;
      }
    }
    throw new IllegalArgumentException("mode: " + name + " (expected: zero-copy, heap, lz4 or tls)");
  }

  /** The sender's configuration: {@code base} with this mode forced (and for TLS, encryption on every path). */
  public BulkConfig senderConfig(BulkConfig base) {
    BulkConfig forced = base.withForceMode(mode);
    return this == TLS ? forced.withPlaintextOnThunderbolt(false) : forced;
  }

  /**
   * The kind the client declares for a path of kind {@code actual}: Thunderbolt for the plaintext
   * modes (the only kind, with loopback, a host grants plaintext on), the path's own otherwise.
   */
  public PathKind declaredKind(PathKind actual) {
    boolean plaintextOnly = this == ZERO_COPY || this == HEAP;
    return plaintextOnly && actual != PathKind.LOOPBACK ? PathKind.THUNDERBOLT : actual;
  }
}
