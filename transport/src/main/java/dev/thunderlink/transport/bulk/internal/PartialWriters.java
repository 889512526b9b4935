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
 * more) and supersedes that connection (closed, its queued work dropped); a claim from an older
 * connection than the current writer's is refused. Thread-safe.
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

  private final Map<Path, FileReceiver> writers = new HashMap<>();

  /**
   * Makes {@code r} the writer of its partial file, fencing the transfer that wrote it until now
   * (and superseding that one's connection, if another); false, and nothing changed, when that
   * transfer runs on a newer connection than {@code r}'s: {@code r} is the stale one.
   */
  boolean claim(FileReceiver r) {
    FileReceiver before;
    synchronized (this) {
      before = writers.get(r.temp);
      if (before != null && before.connection.serial() > r.connection.serial()) {
        return false;
      }
      writers.put(r.temp, r);
    }
    if (before != null) { // outside the lock: fencing waits for the block the other is writing
      before.fence();
      if (before.connection != r.connection) {
        before.connection.superseded("a newer connection resumed " + r.dest);
      }
    }
    return true;
  }

  /** {@code r} is done with its partial file (if it still is its writer). */
  synchronized void release(FileReceiver r) {
    writers.remove(r.temp, r);
  }

  /** Whether a transfer writes the partial file {@code temp} now (tests). */
  synchronized boolean writing(Path temp) {
    return writers.containsKey(temp);
  }
}
