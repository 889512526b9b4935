package dev.thunderlink.sync.internal;

import dev.thunderlink.sync.SyncMode;

/**
 * The pure three-way decision for one path: given the ancestor (last agreed state), the
 * local and the remote entry, what must happen. No I/O, no state; the planner applies
 * tree-level fix-ups (a directory cannot be deleted under a surviving child, case
 * collisions, renames) on top.
 *
 * <pre>
 * two-way-safe                         two-way-resolved            one-way-replica
 * L == R        : NONE / AGREE         same                        same
 * only R changed: TO_LOCAL             same                        TO_REMOTE (revert R)
 * only L changed: TO_REMOTE            same                        TO_REMOTE
 * both, L absent: TO_LOCAL (modification beats deletion)           TO_REMOTE
 * both, R absent: TO_REMOTE            same                        TO_REMOTE
 * both, L dir, R not: CONFLICT_RENAME_REMOTE (dir keeps the name)  TO_REMOTE
 * both, R dir, L not: CONFLICT_RENAME_LOCAL                        TO_REMOTE
 * both, neither dir : CONFLICT_RENAME_REMOTE  TO_REMOTE (L wins)   TO_REMOTE
 * </pre>
 *
 * <p>Two files of the same content whose modification times differ: the side whose time moved
 * away from the ancestor's gives it to the other ({@code touch} propagates); when both moved, or
 * the ancestor's is unknown, two-way-safe leaves each its own (a time is no edit to keep two
 * copies of) and two-way-resolved gives the workstation's; one-way-replica always gives it.
 *
 * Thread-safe (stateless).
 */
public final class Reconciler {
  private Reconciler() {}

  public enum Action {
    /** Nothing to do. */
    NONE,
    /** Both sides hold the same new state: record it as the ancestor. */
    AGREE,
    /** Make the remote side equal to the local one (copy, create or delete). */
    TO_REMOTE,
    /** Make the local side equal to the remote one. */
    TO_LOCAL,
    /** Keep both: move the remote version aside to a conflict copy, then propagate local. */
    CONFLICT_RENAME_REMOTE,
    /** Keep both: move the local version aside to a conflict copy, then propagate remote. */
    CONFLICT_RENAME_LOCAL
  }

  public static Action reconcile(SyncMode mode, Entry ancestor, Entry local, Entry remote) {
    if (Entry.sameContent(local, remote)) {
      if (!Entry.sameTimes(local, remote)) {
        return touched(mode, ancestor, local, remote);
      }
      return Entry.sameContent(ancestor, local) && Entry.sameTimes(ancestor, local) ? Action.NONE : Action.AGREE;
    }
    if (mode == SyncMode.ONE_WAY_REPLICA) {
      return Action.TO_REMOTE;
    }
    boolean localChanged = !Entry.sameContent(ancestor, local);
    boolean remoteChanged = !Entry.sameContent(ancestor, remote);
    if (!localChanged) {
      return Action.TO_LOCAL;
    }
    if (!remoteChanged) {
      return Action.TO_REMOTE;
    }
    if (local == null) {
      return Action.TO_LOCAL;
    }
    if (remote == null) {
      return Action.TO_REMOTE;
    }
    if (local.isDirectory() && !remote.isDirectory()) {
      return Action.CONFLICT_RENAME_REMOTE;
    }
    if (remote.isDirectory() && !local.isDirectory()) {
      return Action.CONFLICT_RENAME_LOCAL;
    }
    return mode == SyncMode.TWO_WAY_RESOLVED ? Action.TO_REMOTE : Action.CONFLICT_RENAME_REMOTE;
  }

  /** Two files of the same content, different modification times. */
  private static Action touched(SyncMode mode, Entry ancestor, Entry local, Entry remote) {
    if (mode == SyncMode.ONE_WAY_REPLICA) {
      return Action.TO_REMOTE;
    }
    if (!Entry.sameContent(ancestor, local)) {
      return Action.AGREE; // the content is newly agreed; the engine records the time as unknown
    }
    if (ancestor.mtimeMillis() == remote.mtimeMillis()) {
      return Action.TO_REMOTE;
    }
    if (ancestor.mtimeMillis() == local.mtimeMillis()) {
      return Action.TO_LOCAL;
    }
    return mode == SyncMode.TWO_WAY_RESOLVED ? Action.TO_REMOTE : Action.NONE;
  }
}
