package dev.thunderlink.benchmarks.bench;

import dev.thunderlink.transport.PeerLink;
import io.grpc.Channel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * One path to the host as a suite sees it: a workstation {@link PeerLink} whose only path is this
 * one (real mutual TLS to a real {@code LinkServer}), and where the raw TCP baselines of the same
 * path are served.
 *
 * @param name the path's name ({@code tb}, {@code wifi})
 * @param label the name in reports ({@code Thunderbolt}, {@code Wi-Fi})
 * @param description what the path is, e.g. {@code emulated wifi: 600 Mbit/s, 2.5 ms ± 1.5 ms}
 * @param link the workstation's link over this path only
 * @param rawEcho a raw TCP echo server over the same path, or null
 * @param rawBulk a raw TCP bulk sink over the same path, or null
 * @param rawUnavailable why the raw servers are missing, when they are
 * @param hostScratch a directory the host side serves (its sync service may open roots below it)
 *     when the host runs in this process ({@code --emulate}); null for a real host
 * @param simulator the host's upstream model simulator (HTTP, reached directly, not over the link)
 *     when the host runs in this process; null for a real host
 * @param bulk the bulk plane over this path and where on the host the bench may write, or null
 *     (a real host without {@code --host-dir}: the bench writes nothing into its roots)
 */
public record BenchTarget(
    String name,
    String label,
    String description,
    PeerLink link,
    InetSocketAddress rawEcho,
    InetSocketAddress rawBulk,
    String rawUnavailable,
    Path hostScratch,
    URI simulator,
    BenchBulk bulk) {

  public BenchTarget {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(label, "label");
    Objects.requireNonNull(link, "link");
  }

  /** Calls over this path (mutual TLS, the path's tuning). */
  public Channel channel() {
    return link.channel();
  }

  /**
   * Waits up to 15 s until the path is up. The link's health probes have a deadline; on a machine
   * saturated by a bulk copy one may miss it and the link marks the path down until the next probe
   * answers, so a suite calls this before a new phase instead of failing on that path.
   *
   * @return false when the path had been marked down, so the suite may note it
   * @throws IOException when it does not come back
   */
  public boolean awaitUp() throws IOException, InterruptedException {
    if (link.paths().stream().anyMatch(p -> p.active())) {
      return true;
    }
    if (!link.awaitActive(java.time.Duration.ofSeconds(15))) {
      throw new IOException("path " + name + " is down and did not come back within 15 s: " + link.paths());
    }
    return false;
  }

  public Optional<InetSocketAddress> echo() {
    return Optional.ofNullable(rawEcho);
  }

  public Optional<InetSocketAddress> rawBulkAddress() {
    return Optional.ofNullable(rawBulk);
  }
}
