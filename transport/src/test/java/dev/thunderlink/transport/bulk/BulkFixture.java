package dev.thunderlink.transport.bulk;

import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkChannels;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.LinkServer;
import dev.thunderlink.transport.PairedPeer;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerStore;
import dev.thunderlink.transport.TlsContexts;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.TransportKind;
import dev.thunderlink.transport.TuningProfile;
import io.grpc.ManagedChannel;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real host (LinkServer with a BulkServer, pinned mTLS) and a workstation-side BulkClient
 * on loopback, over one transport. The client's gRPC channel goes straight to the server;
 * the bulk path is {@code kind} (loopback: plaintext allowed; LAN: TLS).
 */
final class BulkFixture implements AutoCloseable {
  final Path dir;
  final Path root;
  final DeviceIdentity host;
  final DeviceIdentity ws;
  final PeerStore hostPeers;
  final PeerStore wsPeers;
  final TransportFactory transport;
  final EventLoopGroup group;
  final BulkServer bulkServer;
  final LinkServer server;
  final ManagedChannel channel;
  final BulkClient client;
  final InetSocketAddress address;
  /** The path names the client reported traffic on (what a PeerLink is told). */
  final java.util.List<String> traffic = new java.util.concurrent.CopyOnWriteArrayList<>();

  BulkFixture(Path dir, TransportKind kind, BulkConfig hostConfig, BulkConfig clientConfig, PathKind pathKind)
      throws Exception {
    this(dir, kind, hostConfig, clientConfig, pathKind, a -> a);
  }

  /**
   * As above, with the client reaching the host (both planes) at {@code via.apply(the host's
   * address)}: a {@link dev.thunderlink.transport.emulator.LinkEmulator} in front of it, say.
   */
  BulkFixture(
      Path dir, TransportKind kind, BulkConfig hostConfig, BulkConfig clientConfig, PathKind pathKind,
      java.util.function.UnaryOperator<InetSocketAddress> via)
      throws Exception {
    this.dir = dir;
    this.root = hostConfig.permittedRoots().isEmpty() ? dir.resolve("root") : hostConfig.permittedRoots().get(0);
    Files.createDirectories(root);
    host = DeviceIdentity.loadOrCreate(dir.resolve("host-id"));
    ws = DeviceIdentity.loadOrCreate(dir.resolve("ws-id"));
    hostPeers = new PeerStore(dir.resolve("host-peers.json"));
    wsPeers = new PeerStore(dir.resolve("ws-peers.json"));
    hostPeers.put(peer(ws, "workstation"));
    wsPeers.put(peer(host, "host"));
    transport = TransportFactory.of(kind);
    group = transport.newGroup(2, "bulk-test-" + kind.cliName());
    bulkServer = new BulkServer(hostConfig, hostPeers);
    server =
        LinkServer.builder()
            .identity(host)
            .peers(hostPeers)
            .transport(transport, group, group)
            .listen(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))
            .tuning(TuningProfile.defaults(PathKind.LOOPBACK))
            .addService(bulkServer.controlService())
            .bulk(bulkServer)
            .build()
            .start();
    address = server.boundAddresses().get(0);
    InetSocketAddress reach = via.apply(address);
    channel =
        LinkChannels.newChannel(
            reach,
            TlsContexts.grpcClient(ws, fp -> fp.equalsIgnoreCase(host.fingerprint())),
            transport,
            group,
            TuningProfile.defaults(PathKind.LOOPBACK));
    LinkPath path = new LinkPath("test", reach, pathKind);
    client =
        BulkClient.builder()
            .identity(ws)
            .peers(wsPeers)
            .transport(transport, group)
            .control(channel)
            .target(() -> Optional.of(path))
            .traffic(traffic::add)
            .config(clientConfig)
            .build();
  }

  static PairedPeer peer(DeviceIdentity id, String role) {
    return new PairedPeer(
        id.deviceId(), role, id.fingerprint(), id.certificatePem(), role, System.currentTimeMillis(), List.of());
  }

  /**
   * A host permitting {@code dir/root} and a client that both use {@code mode} (null: each
   * chooses); TLS runs on a LAN path, the others on loopback.
   */
  static BulkFixture forMode(Path dir, TransportKind kind, TransferMode mode) throws Exception {
    BulkConfig host = config(dir.resolve("root"));
    BulkConfig client = BulkConfig.defaults(java.util.List.of());
    PathKind path = PathKind.LOOPBACK;
    if (mode == TransferMode.TLS) {
      path = PathKind.LAN;
    } else if (mode != null) {
      client = client.withForceMode(mode);
      host = host.withForceMode(mode);
    }
    return new BulkFixture(dir, kind, host, client, path);
  }

  static BulkConfig config(Path root) {
    return BulkConfig.defaults(List.of(root));
  }

  @Override
  public void close() throws IOException {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.close();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
