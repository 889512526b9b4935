package dev.thunderlink.transport.bulk;

import java.io.IOException;

/**
 * A bulk transfer failed; the message is one line a user can act on. {@link #retryable()}
 * says the connection (not the file) failed, so the transfer can resume on another path.
 */
public final class BulkException extends IOException {
  private static final long serialVersionUID = 1L;
  private final boolean retryable;

  public BulkException(String message, boolean retryable) {
    super(message);
    this.retryable = retryable;
  }

  public BulkException(String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  public boolean retryable() {
    return retryable;
  }
}
