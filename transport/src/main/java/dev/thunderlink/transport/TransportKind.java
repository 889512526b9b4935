package dev.thunderlink.transport;

import java.util.Locale;

/** The native (or NIO) transport that carries every socket of a daemon. */
public enum TransportKind {
  KQUEUE,
  EPOLL,
  IO_URING,
  NIO;

  /** The lower-case name used on the command line and in {@code status}. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * Parses a {@code --transport} value.
   *
   * @throws IllegalArgumentException naming the value and what was expected
   */
  public static TransportKind parse(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    for (TransportKind kind : values()) {
      if (kind.cliName().equals(v) || (kind == IO_URING && v.equals("iouring"))) {
        return kind;
      }
    }
    throw new IllegalArgumentException(
        "transport: " + value + " (expected: auto, kqueue, epoll, io-uring or nio)");
  }
}
