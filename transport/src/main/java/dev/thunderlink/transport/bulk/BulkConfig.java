package dev.thunderlink.transport.bulk;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Settings of the bulk plane, validated once. Immutable.
 *
 * @param permittedRoots host side: the only directories a peer may write into or read from
 *     (absolute; a path outside every root is refused); empty refuses everything
 * @param plaintextOnThunderbolt run without TLS on a Thunderbolt (or loopback) path, with
 *     integrity from digests over the control plane; false encrypts there too
 * @param maxFrameBytes largest frame payload accepted; bigger frames fail the connection
 * @param chunkBytes payload bytes per data frame a sender writes
 * @param zeroCopyMinBytes smaller incompressible files are sent from a heap copy
 * @param lz4 try LZ4 on each file (probe of the first block)
 * @param forceMode null to choose per payload; otherwise always this mode where the
 *     connection allows it (benchmarks, tests)
 * @param receiveQueueBytes received bytes waiting for the disk above which reading pauses
 * @param stallTimeout how long a sender waits for a peer that stopped reading
 * @param digest the content hash that verifies each file (see {@link DigestChoice}); a
 *     session uses SHA-256 when either side's setting asks for it
 * @param diskThreads threads per bulk connection that write received files (each stream on
 *     one, chosen by its path): a tree of small files is created and renamed on several at
 *     once; see {@link #defaultDiskThreads()}
 */
public record BulkConfig(
    List<Path> permittedRoots,
    boolean plaintextOnThunderbolt,
    int maxFrameBytes,
    int chunkBytes,
    long zeroCopyMinBytes,
    boolean lz4,
    TransferMode forceMode,
    long receiveQueueBytes,
    Duration stallTimeout,
    DigestChoice digest,
    int diskThreads) {

  /** Which content hash verifies each file end to end ({@code bulk.digest}). */
  public enum DigestChoice {
    /**
     * XXH3-128 on a plaintext (Thunderbolt or loopback) connection, SHA-256 on a TLS one. On
     * plaintext the hash then catches corruption (like rsync's default xxh128) but not a
     * deliberate rewrite by someone on the cable; choose {@link #SHA256} for that.
     */
    AUTO,
    /** Always XXH3-128 (unless the peer asks for SHA-256). */
    XXH3_128,
    /** Always SHA-256: a cryptographic check also on plaintext paths. */
    SHA256;

    /** {@code auto}, {@code xxh3-128}, {@code sha256}: the config spelling. */
    public String configName() {
      return this == AUTO ? "auto" : this == XXH3_128 ? "xxh3-128" : "sha256";
    }

    /** Parses the config spelling; one-line error otherwise. */
    public static DigestChoice parse(String v) {
      for (DigestChoice c : values()) {
        if (c.configName().equalsIgnoreCase(v == null ? "" : v.trim())) {
          return c;
        }
      }
      throw new IllegalArgumentException("bulk.digest: " + v + " (expected: auto, xxh3-128 or sha256)");
    }

    /** Whether this setting asks for SHA-256 on a connection that is (not) encrypted. */
    public boolean wantsSha256(boolean encrypted) {
      return this == SHA256 || (this == AUTO && encrypted);
    }
  }

  /** Without a digest setting: {@link DigestChoice#AUTO}. */
  public BulkConfig(
      List<Path> permittedRoots,
      boolean plaintextOnThunderbolt,
      int maxFrameBytes,
      int chunkBytes,
      long zeroCopyMinBytes,
      boolean lz4,
      TransferMode forceMode,
      long receiveQueueBytes,
      Duration stallTimeout) {
    this(permittedRoots, plaintextOnThunderbolt, maxFrameBytes, chunkBytes, zeroCopyMinBytes, lz4, forceMode,
        receiveQueueBytes, stallTimeout, DigestChoice.AUTO, defaultDiskThreads());
  }

  /** The most disk threads a connection may have ({@code bulk.disk_threads}). */
  public static final int MAX_DISK_THREADS = 16;

  /**
   * One per core, at most 4: on the 2-core machine here a tree of 20,000 small files went to
   * tmpfs in a median 0.60 s of transfer with 2 against 0.69 s with one, at the same CPU (the
   * creates, writes and renames were ~70% of the host's CPU, all on one thread); a single large
   * file uses one either way.
   */
  public static int defaultDiskThreads() {
    return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
  }

  public static final int LZ4_BLOCK_BYTES = 64 * 1024;

  public BulkConfig {
    List<Path> roots = new ArrayList<>();
    for (Path p : Objects.requireNonNull(permittedRoots, "permittedRoots")) {
      if (!p.isAbsolute()) {
        throw new IllegalArgumentException("bulk.permittedRoots: " + p + " (expected: an absolute path)");
      }
      roots.add(p.normalize());
    }
    permittedRoots = List.copyOf(roots);
    if (maxFrameBytes < 2 * LZ4_BLOCK_BYTES) {
      throw new IllegalArgumentException("bulk.maxFrameBytes: " + maxFrameBytes + " (expected: >= " + 2 * LZ4_BLOCK_BYTES + ")");
    }
    if (chunkBytes < 4096 || chunkBytes > maxFrameBytes) {
      throw new IllegalArgumentException(
          "bulk.chunkBytes: " + chunkBytes + " (expected: 4096.." + maxFrameBytes + ", the max frame size)");
    }
    if (zeroCopyMinBytes < 0) {
      throw new IllegalArgumentException("bulk.zeroCopyMinBytes: " + zeroCopyMinBytes + " (expected: >= 0)");
    }
    if (receiveQueueBytes < maxFrameBytes) {
      throw new IllegalArgumentException(
          "bulk.receiveQueueBytes: " + receiveQueueBytes + " (expected: >= maxFrameBytes " + maxFrameBytes + ")");
    }
    if (stallTimeout == null || stallTimeout.isNegative() || stallTimeout.isZero()) {
      throw new IllegalArgumentException("bulk.stallTimeout: " + stallTimeout + " (expected: > 0)");
    }
    if (digest == null) {
      throw new IllegalArgumentException("bulk.digest: null (expected: auto, xxh3-128 or sha256)");
    }
    if (diskThreads < 1 || diskThreads > MAX_DISK_THREADS) {
      throw new IllegalArgumentException(
          "bulk.disk_threads: " + diskThreads + " (expected: 1.." + MAX_DISK_THREADS + ")");
    }
  }

  /**
   * Whether a bulk connection over a path of this kind uses TLS, for {@code status}: always,
   * except on Thunderbolt (and loopback) when {@link #plaintextOnThunderbolt()} (the host must
   * allow it too).
   */
  public boolean encrypts(dev.thunderlink.transport.PathKind kind) {
    return !(plaintextOnThunderbolt && kind.thunderboltClass());
  }

  /** Defaults: plaintext on Thunderbolt, 4 MiB frames, 1 MiB chunks, LZ4 probing on, digest auto. */
  public static BulkConfig defaults(List<Path> permittedRoots) {
    return new BulkConfig(
        permittedRoots, true, 4 * 1024 * 1024, 1024 * 1024, 64 * 1024, true, null, 32L * 1024 * 1024,
        Duration.ofSeconds(30), DigestChoice.AUTO, defaultDiskThreads());
  }

  public BulkConfig withDigest(DigestChoice v) {
    return new BulkConfig(permittedRoots, plaintextOnThunderbolt, maxFrameBytes, chunkBytes, zeroCopyMinBytes, lz4, forceMode, receiveQueueBytes, stallTimeout, v, diskThreads);
  }

  public BulkConfig withPlaintextOnThunderbolt(boolean v) {
    return new BulkConfig(permittedRoots, v, maxFrameBytes, chunkBytes, zeroCopyMinBytes, lz4, forceMode, receiveQueueBytes, stallTimeout, digest, diskThreads);
  }

  public BulkConfig withForceMode(TransferMode v) {
    return new BulkConfig(permittedRoots, plaintextOnThunderbolt, maxFrameBytes, chunkBytes, zeroCopyMinBytes, lz4, v, receiveQueueBytes, stallTimeout, digest, diskThreads);
  }

  public BulkConfig withFrames(int maxFrame, int chunk) {
    return new BulkConfig(permittedRoots, plaintextOnThunderbolt, maxFrame, chunk, zeroCopyMinBytes, lz4, forceMode, Math.max(receiveQueueBytes, maxFrame), stallTimeout, digest, diskThreads);
  }

  public BulkConfig withStallTimeout(Duration v) {
    return new BulkConfig(permittedRoots, plaintextOnThunderbolt, maxFrameBytes, chunkBytes, zeroCopyMinBytes, lz4, forceMode, receiveQueueBytes, v, digest, diskThreads);
  }

  public BulkConfig withDiskThreads(int v) {
    return new BulkConfig(permittedRoots, plaintextOnThunderbolt, maxFrameBytes, chunkBytes, zeroCopyMinBytes, lz4, forceMode, receiveQueueBytes, stallTimeout, digest, v);
  }
}
