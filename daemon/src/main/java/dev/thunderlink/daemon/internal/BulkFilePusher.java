package dev.thunderlink.daemon.internal;

import dev.thunderlink.sync.FilePusher;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkSession;
import dev.thunderlink.transport.bulk.PullItem;
import dev.thunderlink.transport.bulk.PushItem;
import dev.thunderlink.transport.bulk.TransferListener;
import dev.thunderlink.transport.bulk.TransferResult;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * The mirror's way to move file content over the workstation daemon's bulk plane, pushes to
 * the host and pulls from it: one bulk session to the host, opened on first use and kept
 * across sync cycles and sessions; closed when a transfer loses its connection, and when the
 * link's active path is no longer the one it runs over (a failover), so the next transfer
 * opens it again on the path that is up.
 *
 * <p>Thread-safe: transfers are serialised (a bulk session moves one list at a time).
 */
public final class BulkFilePusher implements FilePusher, AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BulkFilePusher.class);
  private final BulkClient client;
  private BulkSession session; // guarded by this
  private boolean closed; // guarded by this

  /** A pusher over {@code client}'s link (a client from {@code BulkClient.forLink}: its active path). */
  public BulkFilePusher(BulkClient client) {
    this.client = client;
  }

  @Override
  public synchronized List<String> push(List<Item> items) throws IOException {
    List<PushItem> push = new ArrayList<>(items.size());
    for (Item i : items) {
      push.add(new PushItem(i.local(), i.hostPath(), null));
    }
    return errors(session().push(push, TransferListener.NONE));
  }

  @Override
  public synchronized List<String> pull(List<Item> items) throws IOException {
    List<PullItem> pull = new ArrayList<>(items.size());
    for (Item i : items) {
      pull.add(new PullItem(i.hostPath(), i.local(), i.size()));
    }
    List<String> errors = errors(session().pull(pull, TransferListener.NONE));
    for (int k = 0; k < errors.size(); k++) {
      if (errors.get(k) != null) {
        discard(pull.get(k)); // the mirror pulls to fresh names: nothing resumes it
      }
    }
    return errors;
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

  /** The open session on the path in use, opened (again) if need be. */
  private BulkSession session() throws IOException {
    if (closed) {
      throw new IOException("bulk plane closed");
    }
    if (session != null && !client.target().map(session.path()::equals).orElse(false)) {
      dropSession(); // the link failed over: the session's path is not the one in use now
    }
    if (session == null) {
      session = client.open();
      log.info("mirror: file content goes over the bulk plane, path {} ({})", session.path().name(),
          session.encrypted() ? "TLS" : "plaintext");
    }
    return session;
  }

  /** One reason per failed file (null: arrived); a lost connection drops the session. */
  private List<String> errors(List<TransferResult> results) {
    List<String> errors = new ArrayList<>(results.size());
    boolean lost = false;
    for (TransferResult r : results) {
      errors.add(r.ok() ? null : r.error());
      lost |= !r.ok() && r.retryable();
    }
    if (lost) {
      dropSession();
    }
    return errors;
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
