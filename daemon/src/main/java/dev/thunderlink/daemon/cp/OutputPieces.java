package dev.thunderlink.daemon.cp;

import com.google.protobuf.ByteString;
import java.io.OutputStream;
import java.util.function.Consumer;

/**
 * UTF-8 written to it, handed on in pieces of at most a fixed size, each cut after a whole
 * character (a piece is valid UTF-8 on its own, so the command can print each as it comes).
 * What is left goes out on {@link #close}; {@link #flush} keeps it (pieces stay large). The
 * JSON summary of a 20,000-file copy went to the command as one 4.3 MB string, built in a
 * growing character buffer, copied to a string and encoded again for the message: 50-170 ms of
 * the daemon's time after every warm copy (800 ms the first time), and a tree of ~80,000 files
 * would have passed the control endpoint's 16 MiB message limit. Not thread-safe.
 */
final class OutputPieces extends OutputStream {
  /** The largest piece sent (well under any message limit; few messages for a large summary). */
  static final int MAX_PIECE = 256 * 1024;

  private final byte[] buf;
  private final Consumer<ByteString> sink;
  private int n;
  private boolean closed;

  OutputPieces(int maxPiece, Consumer<ByteString> sink) {
    if (maxPiece < 4) {
      throw new IllegalArgumentException("piece size: " + maxPiece + " (expected: >= 4, a UTF-8 character's most)");
    }
    this.buf = new byte[maxPiece];
    this.sink = sink;
  }

  @Override
  public void write(int b) {
    if (n == buf.length) {
      emit();
    }
    buf[n++] = (byte) b;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    while (len > 0) {
      if (n == buf.length) {
        emit();
      }
      int k = Math.min(len, buf.length - n);
      System.arraycopy(b, off, buf, n, k);
      n += k;
      off += k;
      len -= k;
    }
  }

  /** Sends the full buffer up to its last whole character; the bytes of one cut in two stay. */
  private void emit() {
    int end = wholeCharacters(buf, n);
    sink.accept(ByteString.copyFrom(buf, 0, end));
    System.arraycopy(buf, end, buf, 0, n - end);
    n -= end;
  }

  /**
   * How many of the first {@code n} bytes of {@code b} are whole UTF-8 characters: all, unless
   * the last character's lead byte announces more bytes than follow it.
   */
  static int wholeCharacters(byte[] b, int n) {
    int i = n - 1;
    while (i > 0 && i > n - 4 && (b[i] & 0xC0) == 0x80) { // continuation bytes: back to the lead byte
      i--;
    }
    if (i < 0) {
      return 0;
    }
    int lead = b[i] & 0xFF;
    int len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return i + len > n ? i : n;
  }

  @Override
  public void flush() {
    // kept for the next piece: Jackson flushes once at the end, close sends the rest
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (n > 0) {
      sink.accept(ByteString.copyFrom(buf, 0, n));
      n = 0;
    }
  }
}
