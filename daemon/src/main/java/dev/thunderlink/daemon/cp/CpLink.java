package dev.thunderlink.daemon.cp;

import dev.thunderlink.transport.bulk.BulkClient;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How {@code cp} reaches the host: a bulk client over a connected link for the duration of
 * one command. The daemon supplies one over its own {@code PeerLink}; {@link StandaloneCpLink}
 * builds a link of its own from the home directory.
 */
public interface CpLink {
  /** A connected link; closing it releases what {@link #open} created. */
  interface Connected extends AutoCloseable {
    BulkClient client();

    /**
     * Waits until some path to the host is up again (after a failover); false on timeout.
     */
    boolean awaitPath(Duration timeout) throws InterruptedException;

    @Override
    void close();
  }

  Connected open(Path home) throws Exception;
}
