package dev.thunderlink.sync.internal;

/** What an endpoint did with an operation, and the entry the path now holds. */
public record ApplyResult(Outcome outcome, String message, Entry result) {
  public enum Outcome {
    OK,
    /** The destination changed since it was scanned; nothing was touched. */
    CHANGED,
    FAILED
  }

  public static ApplyResult ok(Entry result) {
    return new ApplyResult(Outcome.OK, "", result);
  }

  public static ApplyResult changed(String message) {
    return new ApplyResult(Outcome.CHANGED, message, null);
  }

  public static ApplyResult failed(String message) {
    return new ApplyResult(Outcome.FAILED, message, null);
  }
}
