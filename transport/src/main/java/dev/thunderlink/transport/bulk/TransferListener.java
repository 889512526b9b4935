package dev.thunderlink.transport.bulk;

/**
 * Progress of a push or pull. Called from sender, disk and gRPC threads: implementations
 * must be thread-safe and quick.
 */
public interface TransferListener {
  TransferListener NONE = new TransferListener() {};

  /** Payload bytes of some file went out (push) or were verified (pull). */
  default void bytes(long n) {}

  /** A file finished, well or not. */
  default void fileDone(TransferResult result) {}
}
