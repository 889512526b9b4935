package dev.thunderlink.daemon.cp;

import dev.thunderlink.daemon.DaemonHome;
import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PairedPeer;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.PeerStore;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkConfig;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A link of {@code cp}'s own: reads the workstation's identity and paired host from the
 * home directory, probes the host's known addresses like the daemon does, and opens bulk
 * sessions over the best path: when no workstation daemon runs, or with {@code cp --standalone}.
 *
 * <p>One command at a time; {@link Connected#close()} stops the link and its event loops.
 */
public final class StandaloneCpLink implements CpLink {
  private final Duration connectTimeout;
  private final BulkConfig config;
  private final List<LinkPath> paths;

  public StandaloneCpLink(Duration connectTimeout, BulkConfig config) {
    this(connectTimeout, config, List.of());
  }

  private StandaloneCpLink(Duration connectTimeout, BulkConfig config, List<LinkPath> paths) {
    this.connectTimeout = connectTimeout;
    this.config = config;
    this.paths = List.copyOf(paths);
  }

  /** The same link over the given paths instead of the host addresses remembered at pairing. */
  public StandaloneCpLink withPaths(List<LinkPath> paths) {
    return new StandaloneCpLink(connectTimeout, config, paths);
  }

  @Override
  public Connected open(Path homeOption) throws Exception {
    DaemonHome home = DaemonHome.resolve(homeOption);
    DeviceIdentity id = home.identity();
    PeerStore peers = home.peers();
    PairedPeer host =
        peers.peers().stream()
            .filter(p -> "host".equals(p.role()) && !p.addresses().isEmpty())
            .findFirst()
            .orElseThrow(
                () -> new IllegalArgumentException(
                    "cp: no paired host with a known address in " + home.dir() + " (run `thunderlink pair HOST CODE` first)"));
    TransportFactory transport = TransportFactory.auto();
    EventLoopGroup group = transport.newGroup(2, "thunderlink-cp");
    PeerLink.Builder b = PeerLink.builder().identity(id).peers(peers).hostFingerprint(host.fingerprint()).transport(transport, group);
    int i = 0;
    if (!paths.isEmpty()) {
      paths.forEach(b::addPath);
    } else {
      for (String a : host.addresses()) {
        b.addPath(LinkPath.parse("p" + i++ + "=" + a));
      }
    }
    PeerLink link = b.build().start();
    BulkClient client =
        BulkClient.forLink(link).identity(id).hostFingerprint(host.fingerprint()).transport(transport, group).config(config).build();
    return CpLink.await(link, client, connectTimeout, () -> {
      link.close();
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    });
  }
}
