package dev.thunderlink.benchmarks.bench;

import dev.thunderlink.benchmarks.internal.BenchLink;
import dev.thunderlink.benchmarks.internal.HomeLink;
import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.PeerStore;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.bulk.BulkClient;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code --home DIR --path NAME=ADDR:PORT ...}: a real paired host. Uses the workstation's
 * identity and pinned peers from the home (the pairing {@code thunderlink pair} made), opens one
 * {@link PeerLink} per path so each figure travels that path only, and looks for the raw TCP
 * baselines ({@code PeerServer}, ports 7101 and 7102) at each path's address. With {@code
 * --host-dir} the bulk suites push files with the real bulk client into that host directory
 * ({@code thunderlink-bench-<path>/}, overwritten each run, left for the user to delete).
 *
 * <p>Set up and closed on the bench's main thread.
 */
final class HomeEnvironment implements BenchEnvironment {

  private final EventLoopGroup group;
  private final List<PeerLink> links = new ArrayList<>();
  private final List<BenchTarget> targets = new ArrayList<>();
  private final Path home;
  private final TransportFactory transport;
  private boolean closed; // guarded by this

  private HomeEnvironment(Path home, TransportFactory transport) {
    this.home = home;
    this.transport = transport;
    this.group = transport.newGroup(2, "bench-ws-io");
  }

  /**
   * @throws IllegalArgumentException when the home holds no identity or no paired host
   * @throws IOException when a path's link does not come up
   */
  static HomeEnvironment start(Path home, List<LinkPath> paths) throws Exception {
    return start(home, paths, null);
  }

  /**
   * @param hostDir where on the host the bulk suites may write ({@code --host-dir}: a directory
   *     inside the host's bulk roots, relative to the first or absolute), or null to write nothing
   */
  static HomeEnvironment start(Path home, List<LinkPath> paths, String hostDir) throws Exception {
    HomeEnvironment env = new HomeEnvironment(home, TransportFactory.auto());
    try {
      for (LinkPath p : paths) {
        PeerLink link = HomeLink.open(home, p, env.transport, env.group);
        env.links.add(link);
        BenchBulk bulk = null;
        if (hostDir != null) {
          DeviceIdentity id = DeviceIdentity.loadOrCreate(home.resolve("identity"));
          PeerStore peers = new PeerStore(home.resolve("peers.json"));
          bulk = new BenchBulk((config, path) -> BulkClient.builder().identity(id).peers(peers)
              .transport(env.transport, env.group).control(link.channel()).target(() -> Optional.of(path))
              .traffic(link::trafficOn).config(config).build(), p, hostDir + "/thunderlink-bench-" + p.name());
        }
        InetSocketAddress echo = new InetSocketAddress(p.address().getAddress(), BenchLink.ECHO_PORT);
        InetSocketAddress bulkRaw = new InetSocketAddress(p.address().getAddress(), BenchLink.BULK_PORT);
        String missing = null;
        if (!reachable(echo) || !reachable(bulkRaw)) {
          missing = "no raw TCP servers at " + p.address().getAddress().getHostAddress() + ":"
              + BenchLink.ECHO_PORT + "/" + BenchLink.BULK_PORT + " (on the host run: java -cp"
              + " benchmarks.jar dev.thunderlink.benchmarks.PeerServer)";
          echo = null;
          bulkRaw = null;
        }
        env.targets.add(new BenchTarget(p.name(), label(p), "real path " + p, link, echo, bulkRaw, missing, null, null, bulk));
      }
      return env;
    } catch (Exception | Error e) {
      env.close();
      throw e;
    }
  }

  static String label(LinkPath p) {
    if (p.kind() == PathKind.THUNDERBOLT) {
      return "Thunderbolt";
    }
    if (p.kind() == PathKind.WIFI) {
      return "Wi-Fi";
    }
    return p.name();
  }

  private static boolean reachable(InetSocketAddress address) {
    try (Socket s = new Socket()) {
      s.connect(address, 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public List<BenchTarget> targets() {
    return targets;
  }

  @Override
  public String description() {
    return "a real paired host, identity and pins from " + home + " (" + transport + " transport)";
  }

  @Override
  public String mode() {
    return "home";
  }

  /** Once only; may be called from a shutdown hook. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (PeerLink l : links) {
      l.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
