package dev.thunderlink.daemon.cp;

import dev.thunderlink.daemon.DaemonHome;
import dev.thunderlink.daemon.config.ConfigLoader;
import dev.thunderlink.daemon.config.ThunderlinkConfig;
import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PathKind;
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
 * It reads config.toml as {@code connect} does: the transport, {@code workstation.paths},
 * the {@code [tuning.<kind>]} profiles and {@code bulk.disk_threads} (for what it receives).
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
    ThunderlinkConfig cfg = ConfigLoader.load(home.dir()).config();
    DeviceIdentity id = home.identity(cfg);
    PeerStore peers = home.peers();
    PairedPeer host =
        peers.peers().stream()
            .filter(p -> "host".equals(p.role()) && !p.addresses().isEmpty())
            .findFirst()
            .orElseThrow(
                () -> new IllegalStateException( // not a usage error: exit 1
                    "cp: no paired host with a known address in " + home.dir() + " (run `thunderlink pair HOST CODE` first)"));
    TransportFactory transport = TransportFactory.select(cfg.transport().kind());
    EventLoopGroup group = transport.newGroup(2, "thunderlink-cp");
    PeerLink link = null;
    BulkClient client;
    try {
      link = link(cfg, host, paths).identity(id).peers(peers).transport(transport, group).build().start();
      client = BulkClient.forLink(link).identity(id).hostFingerprint(host.fingerprint()).transport(transport, group)
          .config(config.withDiskThreads(cfg.bulk().diskThreadsOrDefault())).build();
    } catch (Exception e) {
      if (link != null) {
        link.close();
      }
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
      throw e;
    }
    PeerLink started = link;
    return CpLink.await(started, client, connectTimeout, () -> {
      started.close();
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    });
  }

  /**
   * The link as {@code connect} would make it from the same home: its paths (see
   * {@link ThunderlinkConfig.Workstation#choose}, with this host's recorded addresses last) and
   * the {@code [tuning.<kind>]} profiles of config.toml.
   */
  static PeerLink.Builder link(ThunderlinkConfig cfg, PairedPeer host, List<LinkPath> paths) {
    PeerLink.Builder b = PeerLink.builder().hostFingerprint(host.fingerprint());
    for (PathKind k : PathKind.values()) {
      b.tuning(cfg.tuning(k));
    }
    cfg.workstation().choose(paths, List.of(host)).forEach(b::addPath);
    return b;
  }
}
