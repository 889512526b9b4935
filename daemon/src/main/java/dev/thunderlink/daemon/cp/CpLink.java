package dev.thunderlink.daemon.cp;

import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.bulk.BulkClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Collectors;

/**
 * How {@code cp} reaches the host: a bulk client over a connected link for the duration of
 * one command. The workstation daemon lends its own {@code PeerLink} ({@link CpControlService});
 * {@link StandaloneCpLink} builds a link of its own from the home directory.
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

  /**
   * {@code client} over {@code link} once some path is up; {@code onClose} runs when the
   * command is done (or now, if no path comes up within {@code timeout}).
   *
   * @throws IllegalStateException naming each path and its state when none came up
   */
  static Connected await(PeerLink link, BulkClient client, Duration timeout, Runnable onClose) throws InterruptedException {
    Connected c =
        new Connected() {
          @Override
          public BulkClient client() {
            return client;
          }

          @Override
          public boolean awaitPath(Duration t) throws InterruptedException {
            return link.awaitActive(t);
          }

          @Override
          public void close() {
            onClose.run();
          }
        };
    if (!link.awaitActive(timeout)) {
      String paths =
          link.paths().stream()
              .map(p -> p.path().name() + " " + p.path().address().getAddress().getHostAddress() + ":" + p.path().address().getPort()
                  + " " + p.state().cliName() + (p.lastError().isEmpty() ? "" : " (" + p.lastError() + ")"))
              .collect(Collectors.joining("; "));
      c.close();
      throw new IllegalStateException("cp: no path to the host came up within " + timeout.toSeconds() + " s (" + paths
          + "); is `thunderlink serve` running on the host?");
    }
    return c;
  }
}
