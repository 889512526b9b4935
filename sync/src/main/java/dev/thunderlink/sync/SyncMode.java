package dev.thunderlink.sync;

import java.util.Locale;

/** How a session settles differences between the local (workstation) and remote (host) side. */
public enum SyncMode {
  /**
   * The default. A change on one side propagates; identical changes on both sides are no
   * conflict; a deletion loses to a modification; two different modifications are a conflict
   * and both versions are kept (the remote one as a conflict copy).
   */
  TWO_WAY_SAFE("two-way-safe"),
  /**
   * Like {@link #TWO_WAY_SAFE}, but when both sides modified a path the local (workstation)
   * version wins and the remote one is overwritten without a conflict copy. A deletion still
   * loses to a modification, and a directory still wins over a file (the file is kept as a
   * conflict copy), so no subtree is ever dropped.
   */
  TWO_WAY_RESOLVED("two-way-resolved"),
  /** The remote side becomes an exact copy of the local side; remote changes are reverted. */
  ONE_WAY_REPLICA("one-way-replica");

  private final String cliName;

  SyncMode(String cliName) {
    this.cliName = cliName;
  }

  /** The name used on the command line and in status output. */
  public String cliName() {
    return cliName;
  }

  /** Parses {@code two-way-safe}, {@code two-way-resolved} or {@code one-way-replica}. */
  public static SyncMode parse(String s) {
    for (SyncMode m : values()) {
      if (m.cliName.equals(s == null ? null : s.toLowerCase(Locale.ROOT))) {
        return m;
      }
    }
    throw new IllegalArgumentException(
        "mode: " + s + " (expected: one of two-way-safe, two-way-resolved, one-way-replica)");
  }
}
