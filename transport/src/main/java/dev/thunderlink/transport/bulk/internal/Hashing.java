package dev.thunderlink.transport.bulk.internal;

import com.dynatrace.hash4j.hashing.HashStream128;
import com.dynatrace.hash4j.hashing.HashValue128;
import com.google.protobuf.ByteString;
import dev.thunderlink.proto.bulk.Digest;
import dev.thunderlink.proto.bulk.DigestAlgorithm;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The content hashes of the bulk plane: SHA-256 (the JDK's, which uses the CPU's SHA
 * instructions where present — Bouncy Castle's pure-Java one is ~10× slower here) and
 * XXH3-128 (hash4j; several times faster than SHA-256, not cryptographic).
 */
public final class Hashing {
  private Hashing() {}

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from this JVM", e);
    }
  }

  /** SHA-256 unless the wire says XXH3-128 (UNSPECIFIED is SHA-256, as older peers send). */
  public static boolean isXxh3(DigestAlgorithm a) {
    return a == DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128;
  }

  public static String name(DigestAlgorithm a) {
    return isXxh3(a) ? "XXH3-128" : "SHA-256";
  }

  /** A running content hash of one file. Not thread-safe. */
  public abstract static class Content {
    /** Consumes the buffer's remaining bytes (its position moves to its limit). */
    public abstract void update(ByteBuffer b);

    public abstract void update(byte[] b, int off, int len);

    /** The digest bytes; once. */
    public abstract byte[] finish();

    public abstract DigestAlgorithm algorithm();

    /** False for {@link #known}: bytes read only to be hashed need not be read at all. */
    public boolean computes() {
      return true;
    }

    /** Puts the finished digest into the field of its algorithm. */
    public Digest.Builder into(Digest.Builder d) {
      byte[] v = finish();
      return isXxh3(algorithm()) ? d.setXxh3128(ByteString.copyFrom(v)) : d.setSha256(ByteString.copyFrom(v));
    }
  }

  /** The value a sender's digest gives for {@code a} (empty if it carries the other one). */
  public static ByteString value(Digest d, DigestAlgorithm a) {
    return isXxh3(a) ? d.getXxh3128() : d.getSha256();
  }

  public static Content content(DigestAlgorithm a) {
    return isXxh3(a) ? new Xxh3() : new Sha256();
  }

  /**
   * A SHA-256 "hash" that is given, not computed: a sender that knows what the file's content
   * should hash to (the mirror scanned it) sends that, and the receiver's own SHA-256 of what
   * it wrote decides. Its updates only consume their bytes.
   */
  public static Content known(byte[] sha256) {
    return new Known(sha256.clone());
  }

  private static final class Known extends Content {
    private final byte[] value;

    Known(byte[] value) {
      this.value = value;
    }

    @Override
    public void update(ByteBuffer b) {
      b.position(b.limit());
    }

    @Override
    public void update(byte[] b, int off, int len) {
      // given, not computed
    }

    @Override
    public byte[] finish() {
      return value.clone();
    }

    @Override
    public DigestAlgorithm algorithm() {
      return DigestAlgorithm.DIGEST_ALGORITHM_SHA256;
    }

    @Override
    public boolean computes() {
      return false;
    }
  }

  private static final class Sha256 extends Content {
    private final MessageDigest md = sha256();

    @Override
    public void update(ByteBuffer b) {
      md.update(b);
    }

    @Override
    public void update(byte[] b, int off, int len) {
      md.update(b, off, len);
    }

    @Override
    public byte[] finish() {
      return md.digest();
    }

    @Override
    public DigestAlgorithm algorithm() {
      return DigestAlgorithm.DIGEST_ALGORITHM_SHA256;
    }
  }

  private static final class Xxh3 extends Content {
    /**
     * hash4j reads arrays only: direct buffers pass through this (cache-sized) copy, one per
     * thread. One per hash allocated 32 KiB for every file sent or received raw from a direct
     * buffer: 1.3 GB across both ends for a tree of 20,000 small files.
     */
    private static final ThreadLocal<byte[]> STAGE = ThreadLocal.withInitial(() -> new byte[32 * 1024]);

    private final HashStream128 h = com.dynatrace.hash4j.hashing.Hashing.xxh3_128().hashStream();

    @Override
    public void update(ByteBuffer b) {
      if (b.hasArray()) {
        h.putBytes(b.array(), b.arrayOffset() + b.position(), b.remaining());
        b.position(b.limit());
        return;
      }
      byte[] stage = STAGE.get();
      while (b.hasRemaining()) {
        int n = Math.min(stage.length, b.remaining());
        b.get(stage, 0, n);
        h.putBytes(stage, 0, n);
      }
    }

    @Override
    public void update(byte[] b, int off, int len) {
      h.putBytes(b, off, len);
    }

    @Override
    public byte[] finish() {
      HashValue128 v = h.get();
      return ByteBuffer.allocate(16).putLong(v.getMostSignificantBits()).putLong(v.getLeastSignificantBits()).array();
    }

    @Override
    public DigestAlgorithm algorithm() {
      return DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128;
    }
  }

  /** Feeds bytes [0, length) of the file into {@code md}. */
  public static void update(MessageDigest md, FileChannel fc, long length, ByteBuffer scratch) throws IOException {
    read(fc, length, scratch, md::update);
  }

  /** Feeds bytes [0, length) of the file into {@code c}. */
  public static void update(Content c, FileChannel fc, long length, ByteBuffer scratch) throws IOException {
    read(fc, length, scratch, c::update);
  }

  /** Hands bytes [0, length) of the file to {@code sink}, a scratch-full at a time. */
  private static void read(FileChannel fc, long length, ByteBuffer scratch, java.util.function.Consumer<ByteBuffer> sink)
      throws IOException {
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
      sink.accept(scratch);
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
