package dev.thunderlink.transport.bulk.internal;

import dev.thunderlink.proto.bulk.FileHeader;
import dev.thunderlink.proto.bulk.Verdict;

/** A connection's role for tests that receive no files and ignore what the peer says. */
final class NoRole implements BulkConnection.Role {
  @Override
  public void control(BulkConnection c, Frame f) {}

  @Override
  public PermittedRoots.Target destination(int stream, FileHeader header) {
    throw new AssertionError("nothing is received here");
  }

  @Override
  public void verdict(int stream, Verdict verdict) {}

  @Override
  public void peerError(int stream, String message) {}

  @Override
  public void closed(String reason) {}
}
