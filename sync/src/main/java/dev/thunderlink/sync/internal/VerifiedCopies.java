package dev.thunderlink.sync.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Copies the host's bulk plane pushed and verified in this process, by absolute path: what
 * {@link DiskEndpoint#installPushed} may trust instead of reading each copy back to hash it
 * (that re-hash was ~8 % of the host daemon's CPU in an initial sync of 20,000 small files).
 *
 * <p><b>Why the bulk plane's own verdict is not enough.</b> The mirror's content hash is
 * SHA-256 of the whole file ({@link ContentHash}). The bulk plane verifies each file with the
 * session's digest: SHA-256 under TLS, but XXH3-128 on a plaintext (Thunderbolt, loopback)
 * path unless {@code bulk.digest = sha256}, and plaintext is the mirror's usual case. Its
 * verdict says only that the host holds the bytes the workstation read when it sent them; the
 * pusher does not check those against the scanned hash ({@code FilePusher.Item} carries none,
 * the sender hashes only for the session's digest), and the file may have changed since the
 * scan: exactly what the re-hash answers CHANGED ("changed while it was being sent"). Nor
 * would such a check on the workstation make the XXH3 verdict usable: XXH3 is not collision
 * resistant, so on a plaintext cable someone who can rewrite bytes in flight could deliver a
 * copy with the sender's XXH3 and other content, and the mirror would install it; today the
 * SHA-256 re-hash against the target's hash (which travels over the authenticated gRPC plane)
 * stops that, and the design rests plaintext integrity on it.
 *
 * <p><b>What is trusted instead.</b> The receiver hashes the bytes it writes into a staged
 * copy with SHA-256 itself, beside the session's digest when that is XXH3 ({@code
 * StagedFileListener}): the very function the re-hash computes, over the very bytes, so
 * comparing it with the target's hash is the re-hash's check, done while the bytes pass
 * instead of by reading them back. What remains different is time: the re-hash sees the copy
 * as it is at install, the recorded hash as it was written. So {@link #verified} takes the
 * copy's stat right after the receiver set its mtime, before the verdict goes out: size, mtime
 * and device, inode and ctime (the key scans trust, {@link DiskEndpoint}'s stat key). ctime
 * moves on every write, truncate, chmod or utimes and cannot be set back by a user; a copy
 * replaced by another file has another inode. A stat that matches at install therefore shows
 * the copy untouched since it was verified, with two limits, both shared with trust the
 * mirror already gives itself: where ctime is coarse (Linux before 6.13, whose multigrain
 * timestamps give a change after a stat a new ctime even within the clock tick), a same-size
 * rewrite in place with the mtime put back within one tick (1-10 ms) of the verification goes
 * unseen, as it would by a scan; and a write into the hidden partial file while it is being
 * received is not seen at all, as {@link DiskEndpoint#writeFiles} renames a temporary file it
 * wrote from verified memory without reading it back. Both need a process writing into the
 * mirror's hidden temporary files on purpose, which could as well rewrite the file just
 * installed.
 *
 * <p>Anything else is hashed as before: no entry (evicted, recorded before a restart, a
 * resumed push under XXH3, a file system without the unix view), a stat that differs, a hash
 * that is not the target's, or a file above the block size (its hash also fingerprints its
 * blocks for later deltas). An entry goes when it is looked up, or when a scan sweeps its
 * file; at most {@code capacity} are kept, the oldest dropped first, so a workstation that
 * pushes and never installs cannot grow it.
 *
 * <p>Threads: the bulk plane's disk threads record, gRPC threads take; the map is guarded by
 * this object.
 */
public final class VerifiedCopies {
  /**
   * Enough for every batch in flight of several sessions: up to 1,024 files a batch
   * ({@code SessionEngine.BULK_BATCH_FILES}), three in flight per session. A record is ~200
   * bytes, so this is a few MB at most; one evicted early is only hashed, as before.
   */
  public static final int DEFAULT_CAPACITY = 16384;

  /** A verified copy: its SHA-256 (hex), and its stat just after verification. */
  record Copy(String hash, long size, FileTime mtime, long dev, long ino, long ctimeNanos) {}

  private final int capacity;
  private final Map<Path, Copy> copies; // guarded by this
  private long trusted; // guarded by this

  public VerifiedCopies(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
    }
    this.capacity = capacity;
    this.copies = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, false) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<Path, Copy> eldest) {
        return size() > VerifiedCopies.this.capacity;
      }
    };
  }

  /**
   * The bulk plane verified {@code partial}: it holds {@code size} bytes whose SHA-256 is
   * {@code sha256}, with mtime {@code mtimeMillis}. Records it with its stat as it is now; a
   * stat that does not show the file as described (someone was quicker), or none with a
   * ctime, records nothing. On the bulk plane's disk thread.
   */
  public void verified(Path partial, long size, long mtimeMillis, byte[] sha256) {
    Path key = key(partial);
    DiskEndpoint.UnixStat st; // the same stat InstallStaged compares it with
    try {
      st = DiskEndpoint.UnixStat.of(key);
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
      return;
    }
    if (st == null || st.size() != size || st.lastModifiedTime().toMillis() != mtimeMillis) {
      return;
    }
    record(key, new Copy(ContentHash.hex(sha256), size, st.lastModifiedTime(), st.dev(), st.ino(), st.ctimeNanos()));
  }

  private synchronized void record(Path key, Copy c) {
    copies.put(key, c);
  }

  /** The copy recorded at {@code p}, removed; null if none. */
  synchronized Copy take(Path p) {
    return copies.isEmpty() ? null : copies.remove(key(p));
  }

  /** Forgets {@code p} (its file was removed). */
  synchronized void forget(Path p) {
    if (!copies.isEmpty()) {
      copies.remove(key(p));
    }
  }

  /** A copy was installed on its recorded hash, without hashing it. */
  synchronized void trusted() {
    trusted++;
  }

  /** How many copies were installed without hashing them again. */
  public synchronized long trustedCount() {
    return trusted;
  }

  /** Copies recorded and not yet taken. */
  public synchronized int size() {
    return copies.size();
  }

  private static Path key(Path p) {
    return p.toAbsolutePath().normalize();
  }
}
