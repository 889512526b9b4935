package dev.thunderlink.sync;

/**
 * One thing a session did or met, pushed to subscribers as it happens (not sampled).
 *
 * @param session  the session's name
 * @param kind     what happened
 * @param path     the path concerned (empty for session-level events)
 * @param detail   for {@code APPLIED} the direction ({@code "book -> mini"}); for the others the
 *     one-line reason
 * @param atMillis when (epoch milliseconds)
 */
public record SyncChange(String session, Kind kind, String path, String detail, long atMillis) {

  /** Kinds of change. */
  public enum Kind {
    /** A path's state reached the other side (written, created, deleted, renamed, chmod). */
    APPLIED,
    /** Both sides changed a path (a conflict copy was kept) or two names collide. */
    CONFLICT,
    /** A path could not be synced (unreadable, refused, failed write). */
    ERROR,
    /** The session paused itself (a full disk); it resumes when space returns. */
    PAUSED,
    /** A safety stop: the session waits for {@code sync resume --force}. */
    HALTED
  }

  public SyncChange {
    path = path == null ? "" : path;
    detail = detail == null ? "" : detail;
  }
}
