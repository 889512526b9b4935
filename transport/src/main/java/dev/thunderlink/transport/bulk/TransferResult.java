package dev.thunderlink.transport.bulk;

/**
 * The outcome of one file.
 *
 * @param path the destination path
 * @param bytes file size
 * @param sentBytes payload bytes actually transferred (less than size when resumed or skipped)
 * @param mode how the bytes travelled (null when skipped or failed before sending)
 * @param skipped the destination was already identical
 * @param error one-line reason, or null on success
 * @param retryable the connection failed, not the file: a new session resumes it
 */
public record TransferResult(
    String path, long bytes, long sentBytes, TransferMode mode, boolean skipped, String error, boolean retryable) {
  public boolean ok() {
    return error == null;
  }
}
