package dev.thunderlink.sync;

import java.util.List;
import java.util.Map;

/**
 * A snapshot of a session for {@code sync status}/{@code sync list}. Counts are cumulative
 * since the session object started.
 *
 * @param state       RUNNING, PAUSED, HALTED (a safety stop; see {@code haltReason}), CLOSED,
 *     DISCONNECTED: running, but no path to the host is up (why in {@code lastError}; changes made
 *     on either side meanwhile cross once one is), or NOT_STARTED: persisted but not running (the
 *     host out of reach, the folder missing, ...; why in {@code lastError}; the daemon retries)
 * @param haltReason  why the session stopped by itself: a safety stop (HALTED), or a full disk
 *     (PAUSED, lifted by itself when space returns); empty otherwise
 * @param lastError   the last session-level error (e.g. the peer unreachable), or empty
 * @param errors      per-path problems (unreadable files, refused symlinks, failed writes)
 * @param collisions  names that cannot coexist on one side (case or normalisation)
 * @param planOps, planOpsDone, planBytes, planBytesDone, planStartedMillis  progress of the plan
 *     being applied now (or the last one): a terminal shows files, bytes, rate
 *     ({@code planBytesDone / elapsed}) and ETA from these
 * @param planFinishedMillis  when the last plan's steps were over (0: none yet)
 * @param planActive  a plan's steps are running now
 * @param localRoot, remoteRoot  the session's folders: this machine's, and the path on the host
 * @param firstSyncDone  the session's first sync since this daemon started it is done: everything
 *     in both folders then is on both sides (what {@code sync create --wait} waits for)
 * @param waiting     why the running session holds its plan back now (a burst of deletions still
 *     growing, which the safety check waits to see whole), or empty
 * @param massDeletionPercent, massDeletionMinEntries  the safety stop in force: a plan deleting at
 *     least this percentage of a side, more than this many entries, halts (0, 0: not running)
 */
public record SyncStatus(String name, String mode, String state, String haltReason, String lastError,
    long localEntries, long remoteEntries, long cycles, long opsApplied, long filesTransferred,
    long bytesSent, long bytesReused, long renamesApplied, long conflicts, Map<String, String> errors,
    List<String> collisions, long lastCycleMillis, long planOps, long planOpsDone, long planBytes,
    long planBytesDone, long planStartedMillis, long planFinishedMillis, boolean planActive, String localRoot,
    String remoteRoot, boolean firstSyncDone, String waiting, int massDeletionPercent, int massDeletionMinEntries) {

  public SyncStatus {
    errors = Map.copyOf(errors);
    collisions = List.copyOf(collisions);
  }

  /** This status with another state and last error, the rest unchanged. */
  public SyncStatus withState(String newState, String newLastError) {
    return new SyncStatus(name, mode, newState, haltReason, newLastError, localEntries, remoteEntries, cycles,
        opsApplied, filesTransferred, bytesSent, bytesReused, renamesApplied, conflicts, errors, collisions,
        lastCycleMillis, planOps, planOpsDone, planBytes, planBytesDone, planStartedMillis, planFinishedMillis,
        planActive, localRoot, remoteRoot, firstSyncDone, waiting, massDeletionPercent, massDeletionMinEntries);
  }
}
