package dev.thunderlink.sync.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * SHA-256 content hashes. SHA-256 rather than a fast non-cryptographic 128-bit hash because
 * the hash is the content's identity across the link: fetch-by-hash, rename detection and,
 * on an unencrypted Thunderbolt bulk channel, integrity all rest on it, so collisions must be
 * infeasible, not merely unlikely. The JDK's implementation uses the CPU's SHA extensions
 * where present (x86 SHA-NI, ARMv8 SHA2 on Apple silicon), reaching GB/s, and needs no extra
 * dependency. Thread-safe (each thread reads through a buffer of its own).
 */
public final class ContentHash {
  private static final int BUFFER = 64 * 1024;
  /**
   * Each hashing thread's read buffer, kept between files: a scan hashes thousands of small
   * files, and a buffer allocated per file (zeroed, then collected) was the largest single
   * cost of a 20,000-file hashing scan in a profile, above SHA-256 itself. 64 KiB: a large file
   * takes more reads, each a few microseconds, and every thread that ever hashed keeps one.
   */
  private static final ThreadLocal<ByteBuffer> READ_BUFFER = ThreadLocal.withInitial(() -> ByteBuffer.allocate(BUFFER));

  private ContentHash() {}

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  public static String hex(byte[] digest) {
    return HexFormat.of().formatHex(digest);
  }

  public static byte[] bytes(String hex) {
    return HexFormat.of().parseHex(hex);
  }

  public static String of(byte[] data) {
    return hex(sha256().digest(data));
  }

  public static String ofFile(Path file) throws IOException {
    return hashFile(file).hash();
  }

  /**
   * A hash, the number of bytes it covers (which may differ from a stat taken earlier) and,
   * when asked for, the {@link BlockHasher fingerprints} of its blocks (null otherwise).
   */
  public record Hashed(String hash, long length, byte[] blocks) {}

  public static Hashed hashFile(Path file) throws IOException {
    return hashFile(file, 0);
  }

  /**
   * Hashes a file in one read; with {@code blockSize > 0} also fingerprints its blocks in
   * the same pass, so a later delta needs no second read of the file.
   */
  public static Hashed hashFile(Path file, int blockSize) throws IOException {
    MessageDigest md = sha256();
    BlockHasher blocks = blockSize > 0 ? new BlockHasher(blockSize) : null;
    long length = 0;
    ByteBuffer buf = READ_BUFFER.get();
    buf.clear();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      int n;
      while ((n = ch.read(buf)) >= 0) {
        length += n;
        md.update(buf.array(), 0, buf.position());
        if (blocks != null) {
          blocks.update(buf.array(), 0, buf.position());
        }
        buf.clear();
      }
    }
    return new Hashed(hex(md.digest()), length, blocks == null ? null : blocks.finish());
  }

  /** Fingerprints of consecutive {@code blockSize} blocks (the last may be short), as hex. */
  public static List<String> blocksOf(Path file, int blockSize) throws IOException {
    return BlockHasher.split(hashFile(file, blockSize).blocks());
  }

  /**
   * Fingerprints of fixed-size blocks: XXH64 (lz4-java's xxhash, the JNI build where it loads)
   * of each block, 8 bytes per block, concatenated. Not SHA-256, because the fingerprints
   * only choose which blocks a delta copies from the old file: the whole-file SHA-256 is still
   * checked before anything lands, so a (practically impossible) fingerprint collision costs a
   * retry without a basis, never a wrong file; XXH64 runs at memory speed where a second
   * SHA-256 pass would double the hashing time of every large file. Not thread-safe.
   */
  public static final class BlockHasher {
    private static final net.jpountz.xxhash.XXHashFactory XX = net.jpountz.xxhash.XXHashFactory.fastestInstance();
    private static final long SEED = 0x74686c6bL; // "thlk"
    private final int blockSize;
    private final net.jpountz.xxhash.StreamingXXHash64 current = XX.newStreamingHash64(SEED);
    private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    private int filled;

    public BlockHasher(int blockSize) {
      if (blockSize <= 0) {
        throw new IllegalArgumentException("block size: " + blockSize + " (expected: > 0)");
      }
      this.blockSize = blockSize;
    }

    public void update(byte[] data, int off, int len) {
      while (len > 0) {
        int n = Math.min(len, blockSize - filled);
        current.update(data, off, n);
        filled += n;
        off += n;
        len -= n;
        if (filled == blockSize) {
          emit();
        }
      }
    }

    private void emit() {
      long v = current.getValue();
      for (int i = 7; i >= 0; i--) {
        out.write((int) (v >>> (8 * i)));
      }
      current.reset();
      filled = 0;
    }

    /** The fingerprints of every block fed so far (a short last block included). */
    public byte[] finish() {
      if (filled > 0) {
        emit();
      }
      return out.toByteArray();
    }

    /** Splits concatenated fingerprints into hex strings, one per block. */
    public static List<String> split(byte[] blocks) {
      List<String> list = new ArrayList<>(blocks.length / 8);
      for (int i = 0; i + 8 <= blocks.length; i += 8) {
        list.add(HexFormat.of().formatHex(blocks, i, i + 8));
      }
      return list;
    }
  }
}
