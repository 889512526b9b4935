package dev.thunderlink.daemon.internal;

import dev.thunderlink.sync.FilePusher;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkSession;
import dev.thunderlink.transport.bulk.PushItem;
import dev.thunderlink.transport.bulk.TransferListener;
import dev.thunderlink.transport.bulk.TransferResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The mirror's way to push file content over the workstation daemon's bulk plane: one bulk
 * session to the host, opened on first use and kept across sync cycles and sessions; closed
 * when a transfer loses its connection, and when the link's active path is no longer the one
 * it runs over (a failover), so the next push opens it again on the path that is up.
 *
 * <p>Thread-safe: pushes are serialised (a bulk session pushes one list at a time).
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
    List<PushItem> push = new ArrayList<>(items.size());
    for (Item i : items) {
      push.add(new PushItem(i.local(), i.hostPath(), null));
    }
    List<TransferResult> results = session.push(push, TransferListener.NONE);
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
