package dev.thunderlink.sync.internal;

/**
 * What an endpoint did with an operation, the entry the path now holds, and the sequence
 * number at which the side recorded that entry's row (0: it recorded none), which the
 * coordinator hands back as a {@link Endpoint.Held held} row.
 */
public record ApplyResult(Outcome outcome, String message, Entry result, long seq) {
  public enum Outcome {
    OK,
    /** The destination changed since it was scanned; nothing was touched. */
    CHANGED,
    FAILED
  }

  public static ApplyResult ok(Entry result) {
    return ok(result, 0);
  }

  public static ApplyResult ok(Entry result, long seq) {
    return new ApplyResult(Outcome.OK, "", result, seq);
  }

  public static ApplyResult changed(String message) {
    return new ApplyResult(Outcome.CHANGED, message, null, 0);
  }

  public static ApplyResult failed(String message) {
    return new ApplyResult(Outcome.FAILED, message, null, 0);
  }

  /**
   * Failed by {@code e}, in words a user can act on. A refused permission's own message is only
   * the file's name (the JDK's AccessDeniedException), which read in {@code sync status} as
   * "problem: a.txt: /Users/me/p/a.txt".
   */
  public static ApplyResult failed(java.io.IOException e) {
    return failed(reason(e));
  }

  static String reason(java.io.IOException e) {
    if (e instanceof java.nio.file.AccessDeniedException a) {
      return "permission denied on " + a.getFile() + (a.getReason() == null ? "" : " (" + a.getReason() + ")")
          + ": give this user write access to it, or ignore the path";
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }
}
