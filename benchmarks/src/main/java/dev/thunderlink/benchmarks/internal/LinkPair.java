package dev.thunderlink.benchmarks.internal;

import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.LinkServer;
import dev.thunderlink.transport.PairingClient;
import dev.thunderlink.transport.PairingCodes;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.PeerStore;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkConfig;
import io.grpc.ServerServiceDefinition;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import javax.net.ssl.SSLException;
import java.util.stream.Stream;

/**
 * Both sides of the real link in one process, for benchmarks on one machine: a host {@link
 * LinkServer} on loopback (mutual TLS, the link's tuning, the given extra services) and a
 * workstation identity paired with it through the real one-time-code exchange. {@link #connect}
 * opens workstation {@link PeerLink}s to any address that leads to the host, typically a link
 * emulator in front of it. The same approach as the transport tests' {@code LinkFixture}, in main
 * code so {@code thunderlink bench} and the JMH benchmarks can use it.
 *
 * <p>Identities and peer stores live in a temporary directory removed by {@link #close()}. Event
 * loops: the host's boss and workers and one workstation group, all from the one {@link
 * TransportFactory}. Not thread-safe: set up and closed by one thread; the links it returns are.
 */
public final class LinkPair implements AutoCloseable {

  private final Path dir;
  private final TransportFactory transport;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final EventLoopGroup clientGroup;
  private final DeviceIdentity wsId;
  private final PeerStore wsPeers;
  private final List<PeerLink> links = new ArrayList<>();
  private LinkServer server;

  private LinkPair(Path dir, TransportFactory transport) throws IOException {
    this.dir = dir;
    this.transport = transport;
    this.boss = transport.newGroup(1, "bench-host-boss");
    this.workers = transport.newGroup(2, "bench-host-io");
    this.clientGroup = transport.newGroup(2, "bench-ws-io");
    this.wsId = DeviceIdentity.loadOrCreate(dir.resolve("ws/identity"));
    this.wsPeers = new PeerStore(dir.resolve("ws/peers.json"));
  }

  /**
   * Starts the host on a free loopback port with {@code services} beside the link's own, and pairs
   * the workstation with it.
   */
  public static LinkPair start(ServerServiceDefinition... services) throws Exception {
    return start((b, peers) -> {}, services);
  }

  /**
   * As {@link #start(ServerServiceDefinition...)}, letting {@code customize} add to the host's
   * builder what needs the host's peer store, such as a bulk server.
   */
  public static LinkPair start(BiConsumer<LinkServer.Builder, PeerStore> customize,
      ServerServiceDefinition... services) throws Exception {
    Path dir = Files.createTempDirectory("thunderlink-bench-");
    LinkPair pair = new LinkPair(dir, TransportFactory.auto());
    try {
      PairingCodes codes = new PairingCodes(Clock.systemUTC());
      PeerStore hostPeers = new PeerStore(dir.resolve("host/peers.json"));
      LinkServer.Builder b = LinkServer.builder()
          .identity(DeviceIdentity.loadOrCreate(dir.resolve("host/identity")))
          .peers(hostPeers)
          .pairingCodes(codes)
          .transport(pair.transport, pair.boss, pair.workers)
          .listen(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
      for (ServerServiceDefinition s : services) {
        b.addService(s);
      }
      customize.accept(b, hostPeers);
      pair.server = b.build().start();
      PairingClient.pair(pair.hostAddress(), codes.issue(Duration.ofMinutes(1)).code(), pair.wsId,
          pair.wsPeers, pair.transport, pair.clientGroup, 10_000);
      return pair;
    } catch (Exception | Error e) {
      pair.close();
      throw e;
    }
  }

  /** Where the host listens (loopback). */
  public InetSocketAddress hostAddress() {
    return server.boundAddresses().get(0);
  }

  /**
   * The workstation's home directory ({@code identity/}, {@code peers.json}, the layout of a
   * daemon home), for code that opens its own links the way {@code thunderlink bench --path} does.
   */
  public Path workstationHome() {
    return dir.resolve("ws");
  }

  public TransportFactory transport() {
    return transport;
  }

  /**
   * A started workstation link with the single path {@code name} to {@code address} (the host, or
   * an emulator in front of it), awaited up; closed with this pair.
   */
  public PeerLink connect(String name, InetSocketAddress address, PathKind kind) throws Exception {
    PeerLink link = PeerLink.builder()
        .identity(wsId)
        .peers(wsPeers)
        .transport(transport, clientGroup)
        .addPath(new LinkPath(name, address, kind))
        .build()
        .start();
    links.add(link);
    if (!link.awaitActive(Duration.ofSeconds(15))) {
      throw new IOException("the link over " + name + " (" + address + ") did not come up: " + link.paths());
    }
    return link;
  }

  /** A bulk-plane client over {@code link} (its active path) with this workstation's identity. */
  public BulkClient bulkClient(PeerLink link, BulkConfig config) throws SSLException {
    return BulkClient.forLink(link).identity(wsId).peers(wsPeers).transport(transport, clientGroup)
        .config(config).build();
  }

  /**
   * A bulk-plane client over {@code link}'s channel that connects to {@code path} (an address and
   * a declared kind), e.g. one path of a link through an emulator.
   */
  public BulkClient bulkClient(PeerLink link, BulkConfig config, LinkPath path) throws SSLException {
    return BulkClient.builder().identity(wsId).peers(wsPeers).transport(transport, clientGroup)
        .control(link.channel()).target(() -> java.util.Optional.of(path)).traffic(link::trafficOn)
        .config(config).build();
  }

  /** Order: workstation links, host server (2 s grace), event loops, temporary files. */
  @Override
  public void close() throws Exception {
    for (PeerLink l : links) {
      l.close();
    }
    if (server != null) {
      server.close(2, TimeUnit.SECONDS);
    }
    clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
