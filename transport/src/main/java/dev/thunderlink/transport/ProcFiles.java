package dev.thunderlink.transport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads Linux's {@code /proc/sys} files. {@code Files.readString} cannot: those files report a
 * size of 0, so it reads one byte, and the kernel answers the read after it with end of file
 * ({@code net.core.rmem_max} = 4194304 read as "4", {@code ip_local_port_range} "32768 60999"
 * as "3"). Here the first read asks for a whole buffer, which the kernel fills at once.
 */
public final class ProcFiles {
  private ProcFiles() {}

  /** The file's text, trimmed. */
  public static String read(Path file) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        out.write(buf, 0, n);
      }
    }
    return out.toString(StandardCharsets.US_ASCII).trim();
  }

  /** The file's number, or -1 when it is missing or holds none. */
  public static long readLong(Path file) {
    try {
      return Long.parseLong(read(file));
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }
}
