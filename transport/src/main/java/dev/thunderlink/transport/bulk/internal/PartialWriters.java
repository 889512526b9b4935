package dev.thunderlink.transport.bulk.internal;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which transfer writes each partial file now, across every bulk connection of this process
 * (the file system is one for all of them).
 *
 * <p>Why: a cable pulled without a reset leaves the host's side of the connection open, with
 * bytes still queued for its disk thread (in the receive queue and the socket's buffer). The
 * sender meanwhile fails over and resumes the same file on a new connection, from the partial
 * file the old one is still writing. Unfenced, the old receiver went on writing through its
 * open channel into the file the new one had resumed, verified and renamed into place, and
 * began the next files of its backlog under their partial names again, left behind once its
 * connection finally ended.
 *
 * <p>So a transfer {@linkplain #claim claims} its partial file before it opens it. The claim of a
 * transfer on a newer connection fences the older one (it writes, renames and deletes nothing
 * more) and supersedes that connection (closed, its queued work dropped). A claim from an older
 * connection than the current writer's, or than the last one that wrote the file within {@link
 * #REMEMBER_NANOS} (the old backlog's BEGIN may come after the new connection finished that
 * file), is refused and supersedes the older connection. Thread-safe.
 */
final class PartialWriters {
  /** The one registry of this process. */
  static final PartialWriters ALL = new PartialWriters();

  private static final AtomicLong SERIALS = new AtomicLong();

  /** The connection a transfer runs on. */
  interface Connection {
    /** Grows with each new connection: the larger is the newer. */
    long serial();

    /** A newer connection took a file of this one over: this one stops. Any thread. */
    void superseded(String reason);
  }

  /** A new serial, larger than every one before it. */
  static long nextSerial() {
    return SERIALS.incrementAndGet();
  }

  /** A connection of its own for a transfer outside any (tests): a fresh serial, nothing to stop. */
  static Connection standalone() {
    long serial = nextSerial();
    return new Connection() {
      @Override
      public long serial() {
        return serial;
      }

      @Override
      public void superseded(String reason) {}
    };
  }

  /** How long the connection that last wrote a partial file is remembered: a stale backlog is far shorter. */
  static final long REMEMBER_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
  /** At most this many are remembered (a tree's files finish by the thousand). */
  static final int REMEMBER_MAX = 4096;

  private final Map<Path, FileReceiver> writers = new HashMap<>();
  /** The connection that last wrote each partial file, and when it let it go; oldest first. Guarded by this. */
  private final java.util.LinkedHashMap<Path, long[]> lastWriters = new java.util.LinkedHashMap<>();

  /**
   * Makes {@code r} the writer of its partial file, fencing the transfer that wrote it until now
   * (and superseding that one's connection, if another); false, and nothing changed, when that
   * transfer, or the last one to write the file lately, runs on a newer connection than {@code
   * r}'s: {@code r}'s connection is the stale one, and is superseded.
   */
  boolean claim(FileReceiver r) {
    FileReceiver before;
    boolean stale;
    synchronized (this) {
      before = writers.get(r.temp);
      long[] last = lastWriter(r.temp);
      long serial = r.connection.serial();
      stale = (before != null && before.connection.serial() > serial) || (last != null && last[0] > serial);
      if (!stale) {
        writers.put(r.temp, r);
      }
    }
    // outside the lock: fencing waits for the block the other is writing, superseding logs
    if (stale) {
      r.connection.superseded("a newer connection wrote " + r.dest);
      return false;
    }
    if (before != null) {
      before.fence();
      if (before.connection != r.connection) {
        before.connection.superseded("a newer connection resumed " + r.dest);
      }
    }
    return true;
  }

  /** {@code r} is done with its partial file (if it still is its writer). */
  synchronized void release(FileReceiver r) {
    if (writers.remove(r.temp, r)) {
      long now = System.nanoTime();
      lastWriters.remove(r.temp); // re-inserted last: the map stays oldest first
      lastWriters.put(r.temp, new long[] {r.connection.serial(), now});
      var oldest = lastWriters.values().iterator();
      while (oldest.hasNext()) {
        long[] o = oldest.next();
        if (lastWriters.size() <= REMEMBER_MAX && now - o[1] < REMEMBER_NANOS) {
          break;
        }
        oldest.remove();
      }
    }
  }

  /** The remembered last writer of {@code temp} ({serial, when}), or null. Under this. */
  private long[] lastWriter(Path temp) {
    long[] last = lastWriters.get(temp);
    return last != null && System.nanoTime() - last[1] < REMEMBER_NANOS ? last : null;
  }

  /** Whether a transfer writes the partial file {@code temp} now (tests). */
  synchronized boolean writing(Path temp) {
    return writers.containsKey(temp);
  }
}
