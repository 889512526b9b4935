package dev.thunderlink.daemon.internal;

import dev.thunderlink.proto.bulk.FileEntry;
import dev.thunderlink.sync.FilePusher;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkSession;
import dev.thunderlink.transport.bulk.FileRange;
import dev.thunderlink.transport.bulk.PullItem;
import dev.thunderlink.transport.bulk.PushItem;
import dev.thunderlink.transport.bulk.ScannedAttributes;
import dev.thunderlink.transport.bulk.TransferListener;
import dev.thunderlink.transport.bulk.TransferResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The mirror's way to move file content over the workstation daemon's bulk plane, pushes to
 * the host and pulls from it: one bulk session to the host, opened on first use and kept
 * across sync cycles and sessions; closed when a transfer loses its connection, and when the
 * link's active path is no longer the one it runs over (a failover), so the next transfer
 * opens it again on the path that is up. A push cut that way is pushed again there (resumed),
 * not left to gRPC.
 *
 * <p>Thread-safe: transfers are serialised (a bulk session moves one list at a time).
 */
public final class BulkFilePusher implements FilePusher, AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BulkFilePusher.class);
  /** Pushes of one batch before its undelivered files are left to gRPC. */
  private static final int MAX_ATTEMPTS = 3;

  private final BulkClient client;
  private BulkSession session; // guarded by this
  private boolean closed; // guarded by this

  /** Waits up to a time for the link to have an active path; false if none came. */
  @FunctionalInterface
  public interface PathWait {
    boolean await(Duration timeout) throws InterruptedException;
  }

  private final PathWait pathWait;
  private final Duration failoverTimeout;

  /**
   * A pusher over {@code client}'s link (a client from {@code BulkClient.forLink}: its active
   * path). When a push loses its connection (the path failed), the files not yet delivered are
   * pushed again on a new session once {@code pathWait} says a path is up (within {@code
   * failoverTimeout} of the loss), resuming each from the bytes the host kept.
   */
  public BulkFilePusher(BulkClient client, PathWait pathWait, Duration failoverTimeout) {
    this.client = client;
    this.pathWait = pathWait;
    this.failoverTimeout = failoverTimeout;
  }

  @Override
  public synchronized List<String> push(List<Item> items) throws IOException {
    String[] errors = new String[items.size()];
    List<Integer> todo = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      todo.add(i);
    }
    for (int attempt = 1; ; attempt++) {
      List<String> paths = new ArrayList<>(todo.size());
      for (int i : todo) {
        paths.add(items.get(i).hostPath());
      }
      List<TransferResult> results;
      try {
        BulkSession s = session(attempt > 1);
        // a retry resumes each file from the bytes the host kept (the stat says how many)
        List<FileEntry> kept = attempt > 1 ? s.stat(paths) : null;
        List<PushItem> push = new ArrayList<>(todo.size());
        for (int k = 0; k < todo.size(); k++) {
          Item it = items.get(todo.get(k));
          push.add(new PushItem(it.local(), paths.get(k), kept == null ? null : kept.get(k), scanned(it), ranges(it),
              it.sha256() == null ? null : java.util.HexFormat.of().parseHex(it.sha256())));
        }
        results = s.pushStaged(push, TransferListener.NONE); // the host's mirror installs each copy itself
      } catch (IOException e) {
        dropSession(); // whatever broke it, the next transfer starts on a new session
        if (attempt == 1) {
          throw e; // the plane cannot be used now: the caller sends these by gRPC
        }
        // the files delivered before the cut keep their result; the caller sends the rest by gRPC
        for (int i : todo) {
          errors[i] = "the link to the host did not come back: " + e.getMessage();
        }
        return Arrays.asList(errors);
      }
      List<Integer> again = new ArrayList<>();
      for (int k = 0; k < todo.size(); k++) {
        TransferResult r = results.get(k);
        errors[todo.get(k)] = r.ok() ? null : r.error();
        if (!r.ok() && r.retryable()) {
          again.add(todo.get(k));
        }
      }
      if (again.isEmpty()) {
        return Arrays.asList(errors);
      }
      dropSession(); // the connection was lost: the next session goes over the path that is up
      try { // the wait starts at the loss: a long batch does not use up the failover's time
        if (attempt >= MAX_ATTEMPTS || !pathWait.await(failoverTimeout)) {
          return Arrays.asList(errors);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for the link to the host", e);
      }
      log.info("mirror: the bulk connection was lost ({}); pushing {} file(s) again", errors[again.get(0)], again.size());
      todo = again;
    }
  }

  @Override
  public synchronized List<String> pull(List<Item> items) throws IOException {
    List<PullItem> pull = new ArrayList<>(items.size());
    for (Item i : items) {
      pull.add(new PullItem(i.hostPath(), i.local(), i.size(), ranges(i)));
    }
    List<TransferResult> results;
    try {
      results = session(false).pull(pull, TransferListener.NONE);
    } catch (IOException e) {
      dropSession();
      pull.forEach(BulkFilePusher::discard); // the caller reads these by gRPC
      throw e;
    }
    List<String> errors = new ArrayList<>(results.size());
    boolean lost = false;
    for (int k = 0; k < results.size(); k++) {
      TransferResult r = results.get(k);
      errors.add(r.ok() ? null : r.error());
      if (!r.ok()) {
        lost |= r.retryable();
        discard(pull.get(k)); // the mirror pulls to fresh names: nothing resumes it
      }
    }
    if (lost) {
      dropSession(); // the next transfer opens a session on the path that is up
    }
    return errors;
  }

  /**
   * A whole file pushed with the SHA-256, mtime and executable bit of its scan: those
   * attributes, so the push does not stat it again (the host's hash decides what arrived).
   * Null otherwise: the push reads the file's own.
   */
  private static ScannedAttributes scanned(Item item) {
    if (item.sha256() == null || item.ranges() != null || item.mtimeMillis() <= 0) {
      return null;
    }
    return new ScannedAttributes(item.size(), FileTime.fromMillis(item.mtimeMillis()), item.executable());
  }

  /** The item's ranges as the bulk plane takes them, or null for the whole file. */
  private static List<FileRange> ranges(Item item) {
    if (item.ranges() == null) {
      return null;
    }
    List<FileRange> out = new ArrayList<>(item.ranges().size());
    for (long[] r : item.ranges()) {
      out.add(new FileRange(r[0], r[1]));
    }
    return out;
  }

  /** Removes what a failed pull may have left: its partial (a lost connection keeps it), its file. */
  private static void discard(PullItem item) {
    try {
      Files.deleteIfExists(item.partial());
      Files.deleteIfExists(item.local());
    } catch (IOException e) {
      log.debug("mirror: cannot remove what a failed pull left at {}: {}", item.local(), e.getMessage());
    }
  }

  /** The open session, on the link's active path (opened first when there is none or the link failed over). */
  private BulkSession session(boolean retry) throws IOException {
    if (closed) {
      throw new IOException("bulk plane closed");
    }
    if (session != null && !client.target().map(session.path()::equals).orElse(false)) {
      dropSession(); // the link failed over: the session's path is not the one in use now
    }
    if (session != null && !session.usable()) {
      // its connection ended while it waited for this batch (both sides close one idle for a
      // minute): before, the batch was pushed into it, failed, and was pushed again
      dropSession();
    }
    if (session == null) {
      session = client.open();
      log.info("mirror: file content goes over the bulk plane, path {} ({}){}", session.path().name(),
          session.encrypted() ? "TLS" : "plaintext", retry ? ", after a lost connection" : "");
    }
    return session;
  }

  private void dropSession() {
    if (session != null) {
      session.close();
      session = null;
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    dropSession();
  }
}
