package dev.thunderlink.transport.bulk.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256, the content hash of the bulk plane (hardware-accelerated on current CPUs). */
public final class Hashing {
  private Hashing() {}

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from this JVM", e);
    }
  }

  /** Feeds bytes [0, length) of the file into {@code md}. */
  public static void update(MessageDigest md, FileChannel fc, long length, ByteBuffer scratch) throws IOException {
    long pos = 0;
    while (pos < length) {
      scratch.clear();
      if (length - pos < scratch.capacity()) {
        scratch.limit((int) (length - pos));
      }
      int n = fc.read(scratch, pos);
      if (n < 0) {
        throw new IOException("file ended at " + pos + " of " + length + " bytes");
      }
      scratch.flip();
      md.update(scratch);
      pos += n;
    }
  }

  public static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  public static String shortHex(byte[] b) {
    String h = hex(b);
    return h.length() > 12 ? h.substring(0, 12) : h;
  }
}
