package dev.thunderlink.inference.internal;

/**
 * An upstream failed: {@link #status()} is its HTTP status, or 0 when there was no answer
 * (refused, reset, timed out). The message is one human line.
 */
public final class UpstreamException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;

  public UpstreamException(int status, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  public UpstreamException(int status, String message) {
    this(status, message, null);
  }

  public int status() {
    return status;
  }

  /** Unwraps completion wrappers and turns anything else into an UpstreamException. */
  public static UpstreamException of(String upstream, Throwable t) {
    Throwable c = t;
    while ((c instanceof java.util.concurrent.CompletionException
        || c instanceof java.util.concurrent.ExecutionException) && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof UpstreamException u) {
      return u;
    }
    String what = c instanceof java.net.ConnectException ? "refused the connection"
        : c instanceof java.net.http.HttpTimeoutException ? "timed out"
        : c instanceof java.util.concurrent.CancellationException ? "request cancelled"
        : c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    return new UpstreamException(0, "upstream " + upstream + ": " + what, c);
  }
}
