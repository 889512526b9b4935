package dev.thunderlink.daemon.cli;

/** Deadlines of the CLI's calls to its local daemon. */
final class ControlCalls {
  private ControlCalls() {}

  /**
   * For a quick call (status, a pairing code, a listing): a guard against a daemon that does not
   * answer, not a performance limit. It starts when the call is set up, so it also covers the
   * CLI's own first call (loading and running gRPC and Netty cold); on a machine busy with
   * inference or a build that took more than 5 s, and `thunderlink pair` failed with "deadline
   * exceeded" while the daemon was fine (2 of 6 runs with the CLI starved).
   */
  static final long QUICK_SECONDS = 30;
}
