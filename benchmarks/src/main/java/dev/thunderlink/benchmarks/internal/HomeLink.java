package dev.thunderlink.benchmarks.internal;

import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.PeerStore;
import dev.thunderlink.transport.TransportFactory;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A workstation link to a real paired host over exactly one path, with the identity and pinned
 * peers of a workstation home (what {@code thunderlink pair} wrote). Used by {@code thunderlink
 * bench --path ...} and by the JMH benchmarks when {@code thunderlink.bench.peer.<profile>} names a
 * real host.
 */
public final class HomeLink {
  private HomeLink() {}

  /**
   * Opens and awaits a link over {@code path}.
   *
   * @throws IllegalArgumentException when the home holds no identity or no paired host
   * @throws IOException when the link does not come up within 15 s
   */
  public static PeerLink open(Path home, LinkPath path, TransportFactory transport, EventLoopGroup group)
      throws Exception {
    Path identityDir = home.resolve("identity");
    if (!Files.isRegularFile(identityDir.resolve("cert.pem"))) {
      throw new IllegalArgumentException("--home: " + home + " (expected: a workstation home with an"
          + " identity; pair first: thunderlink pair HOST CODE --home " + home + ")");
    }
    PeerStore peers = new PeerStore(home.resolve("peers.json"));
    if (peers.peers().isEmpty()) {
      throw new IllegalArgumentException("--home: " + home + " (expected: a paired host; pair first:"
          + " thunderlink pair HOST CODE --home " + home + ")");
    }
    PeerLink link = PeerLink.builder()
        .identity(DeviceIdentity.loadOrCreate(identityDir))
        .peers(peers)
        .transport(transport, group)
        .addPath(path)
        .build()
        .start();
    if (!link.awaitActive(Duration.ofSeconds(15))) {
      link.close();
      throw new IOException("path " + path + " did not come up within 15 s: " + link.paths());
    }
    return link;
  }
}
