package dev.thunderlink.transport.testing;

import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.LinkServer;
import dev.thunderlink.transport.PairingClient;
import dev.thunderlink.transport.PairingCodes;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.PeerStore;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.TransportKind;
import io.grpc.BindableService;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A real host link server and a real workstation identity on loopback, paired with a real
 * one-time code, on one transport. Other modules' tests reuse it (transport test-jar) to
 * stand up both sides of the link in-process.
 */
public final class LinkFixture implements AutoCloseable {
  public final TransportFactory transport;
  public final EventLoopGroup boss;
  public final EventLoopGroup workers;
  public final DeviceIdentity hostId;
  public final DeviceIdentity wsId;
  public final PeerStore hostPeers;
  public final PeerStore wsPeers;
  public final PairingCodes codes = new PairingCodes(Clock.systemUTC());
  public LinkServer server;
  private final List<PeerLink> links = new ArrayList<>();

  public LinkFixture(TransportKind kind, Path dir) throws IOException {
    this.transport = TransportFactory.of(kind);
    this.boss = transport.newGroup(1, "test-boss");
    this.workers = transport.newGroup(2, "test-io");
    this.hostId = DeviceIdentity.loadOrCreate(dir.resolve("host/identity"));
    this.wsId = DeviceIdentity.loadOrCreate(dir.resolve("ws/identity"));
    this.hostPeers = new PeerStore(dir.resolve("host/peers.json"));
    this.wsPeers = new PeerStore(dir.resolve("ws/peers.json"));
  }

  /** Starts the host on the given loopback addresses (port 0 picks a free port). */
  public LinkFixture startHost(List<InetSocketAddress> listen, Consumer<LinkServer.Builder> customize) throws IOException {
    LinkServer.Builder b =
        LinkServer.builder()
            .identity(hostId)
            .peers(hostPeers)
            .pairingCodes(codes)
            .transport(transport, boss, workers)
            .listen(listen);
    customize.accept(b);
    server = b.build().start();
    return this;
  }

  public LinkFixture startHost(BindableService... services) throws IOException {
    return startHost(
        List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
        b -> {
          for (BindableService s : services) {
            b.addService(s);
          }
        });
  }

  public InetSocketAddress hostAddress() {
    return server.boundAddresses().get(0);
  }

  /** Pairs the workstation with the host through the real J-PAKE exchange. */
  public LinkFixture pair() throws Exception {
    PairingCodes.Issued code = codes.issue(Duration.ofMinutes(1));
    PairingClient.pair(hostAddress(), code.code(), wsId, wsPeers, transport, workers, 10_000);
    return this;
  }

  /** A started workstation link over one loopback path to the host, awaited up. */
  public PeerLink connect() throws Exception {
    PeerLink link =
        PeerLink.builder()
            .identity(wsId)
            .peers(wsPeers)
            .transport(transport, workers)
            .addPath(new LinkPath("lo", hostAddress(), PathKind.LOOPBACK))
            .build()
            .start();
    links.add(link);
    if (!link.awaitActive(Duration.ofSeconds(10))) {
      throw new IllegalStateException("link did not come up: " + link.paths());
    }
    return link;
  }

  public PeerLink track(PeerLink link) {
    links.add(link);
    return link;
  }

  @Override
  public void close() throws Exception {
    for (PeerLink l : links) {
      l.close();
    }
    if (server != null) {
      server.close(2, TimeUnit.SECONDS);
    }
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
