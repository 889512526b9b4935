package dev.thunderlink.transport;

import dev.thunderlink.proto.link.Endpoint;
import dev.thunderlink.proto.link.HandshakeRequest;
import dev.thunderlink.proto.link.Role;
import dev.thunderlink.transport.internal.LinkService;
import dev.thunderlink.transport.internal.PairingService;
import dev.thunderlink.transport.internal.PeerAuthInterceptor;
import dev.thunderlink.transport.internal.UnifiedServerNegotiator;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The host's link port: one listening port per address, serving gRPC (Link, Pairing and the
 * feature services) over mutual TLS, and the bulk plane, told apart by the first bytes.
 *
 * <p>Threading: link calls (handshake, ping, paths) and the methods named with
 * {@link Builder#inline} run on the connection's event loop and must not block; every other
 * call runs on the server's own pool of {@code thunderlink-link-call-N} threads.
 *
 * <p>Lifecycle: {@link #start()} once, then {@link #close()}: stop accepting, give calls a
 * grace period, then force; the call pool stops after the server. Event loops belong to the
 * caller and outlive the server.
 */
public final class LinkServer implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LinkServer.class);
  private final Builder b;
  private final ServerCallGate gate;
  private Server server;
  private java.util.concurrent.ExecutorService callPool;
  /** Every open connection to the link port (gRPC and bulk), to cut a peer's when it is unpaired. */
  private final java.util.Set<io.netty.channel.Channel> connections = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private LinkServer(Builder b) {
    this.b = b;
    // Pings keep answering while the host drains: a workstation that lost them would mark the
    // path down and drop its own calls before the host could finish or cut them with a reason.
    this.gate = new ServerCallGate(b.subscriptions, java.util.Set.of(dev.thunderlink.proto.link.LinkGrpc.SERVICE_NAME));
  }

  /**
   * Every call on the link port passes this gate: shutdown stops new calls through it with a
   * reason the workstation can show, then waits for (or cuts) the calls in flight.
   */
  public ServerCallGate gate() {
    return gate;
  }

  public static Builder builder() {
    return new Builder();
  }

  private void accepted(io.netty.channel.Channel ch) {
    connections.add(ch);
    ch.closeFuture().addListener(f -> connections.remove(ch));
  }

  /**
   * {@code thunderlink unpair} on the host ends that workstation's connections now: its calls in
   * flight (a sync's change stream, a generation) and its TLS bulk transfers stop, rather than
   * going on until the connection next breaks. Its next call is refused as unpaired.
   */
  private void cutUnpaired(java.util.Set<String> fingerprints) {
    for (io.netty.channel.Channel ch : connections) {
      ch.eventLoop().execute(() -> {
        io.netty.handler.ssl.SslHandler ssl = ch.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        if (ssl == null || !ssl.handshakeFuture().isSuccess() || ch.pipeline().get(UnifiedServerNegotiator.BULK_TLS_HANDLER) != null) {
          return; // bulk: the bulk server cuts those itself, with the reason in an ERROR frame
        }
        String fp = TlsContexts.peerFingerprint(ssl);
        if (fp != null && fingerprints.contains(fp.toLowerCase(java.util.Locale.ROOT))) {
          LOG.warn("closed connection from {}: device {} was unpaired on this host", ch.remoteAddress(),
              DeviceIdentity.deviceIdOf(fp));
          ch.close();
        }
      });
    }
  }

  /** Binds every listen address; fails with the address when one is taken. */
  public LinkServer start() throws IOException {
    b.peers.onUnpinned(this::cutUnpaired);
    SslContext grpcTls = TlsContexts.grpcServer(b.identity);
    SslContext bulkTls = TlsContexts.bulkServer(b.identity);
    NettyServerBuilder nb =
        NettyServerBuilder.forAddress(
            b.listen.get(0),
            InternalNettyServerCredentials.create(new UnifiedServerNegotiator(grpcTls, b.bulk, bulkTls, this::accepted)));
    for (int i = 1; i < b.listen.size(); i++) {
      nb.addListenAddress(b.listen.get(i));
    }
    TuningProfile tuning = b.tuning;
    nb.bossEventLoopGroup(b.boss)
        .workerEventLoopGroup(b.workers)
        .channelType(b.transport.serverChannelClass())
        .flowControlWindow(tuning.flowControlWindowBytes())
        .permitKeepAliveTime(1, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        // A bulk connection never finishes gRPC's handshake; TLS and the preface have their
        // own 10-second timeouts, so gRPC's must not cut bulk transfers.
        .handshakeTimeout(365, TimeUnit.DAYS)
        .maxInboundMessageSize(b.maxInboundMessageBytes)
        .withOption(ChannelOption.SO_REUSEADDR, true);
    for (Map.Entry<ChannelOption<?>, Object> e : tuning.channelOptions().entrySet()) {
      @SuppressWarnings("unchecked")
      ChannelOption<Object> o = (ChannelOption<Object>) e.getKey();
      nb.withChildOption(o, e.getValue());
    }
    // Link calls (handshake, ping, paths) and the inline methods (token streams) never block:
    // run them on the event loop instead of handing each to an executor thread and back, which
    // is most of a ping's latency and ~1 ms of a first token on a busy machine. The rest may
    // block (file I/O, SQLite) and go to a pool of our own, named so a thread dump says whose.
    java.util.concurrent.atomic.AtomicInteger threads = new java.util.concurrent.atomic.AtomicInteger();
    callPool = java.util.concurrent.Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "thunderlink-link-call-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    // Everything runs on the event loop (direct executor); the offload interceptor, next to each
    // service, hands the calls that may block to callPool. See OffloadInterceptor for why not
    // grpc-java's callExecutor.
    nb.directExecutor();
    dev.thunderlink.transport.internal.OffloadInterceptor offload =
        new dev.thunderlink.transport.internal.OffloadInterceptor(
            callPool, java.util.Set.of(dev.thunderlink.proto.link.LinkGrpc.SERVICE_NAME), b.inline);
    PeerAuthInterceptor auth = new PeerAuthInterceptor(b.peers);
    LinkService link =
        new LinkService(b.identity, Role.ROLE_HOST, b.capabilities, this::endpoints, b.onHandshake);
    // The gate runs first (interceptors run last-added first): a call refused while the host
    // shuts down hears why before anything else happens to it.
    nb.addService(ServerInterceptors.intercept(link, auth, gate));
    nb.addService(ServerInterceptors.intercept(new PairingService(b.identity, b.codes, b.peers), offload, auth, gate));
    for (BindableService s : b.services) {
      nb.addService(ServerInterceptors.intercept(s, offload, auth, gate));
    }
    for (ServerServiceDefinition s : b.serviceDefinitions) {
      nb.addService(ServerInterceptors.intercept(s, offload, auth, gate));
    }
    try {
      server = nb.build().start();
    } catch (IOException e) {
      callPool.shutdownNow();
      throw new IOException(
          "cannot listen on " + describe(b.listen) + ": " + rootMessage(e)
              + " (is another thunderlink or program using the port? choose one with --listen ADDR:PORT)",
          e);
    }
    return this;
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage();
  }

  private static String describe(List<InetSocketAddress> addrs) {
    List<String> s = new ArrayList<>();
    for (InetSocketAddress a : addrs) {
      s.add(a.getAddress().getHostAddress() + ":" + a.getPort());
    }
    return String.join(", ", s);
  }

  /** The bound addresses (ports resolved when 0 was asked for). */
  public List<InetSocketAddress> boundAddresses() {
    List<InetSocketAddress> out = new ArrayList<>();
    for (SocketAddress a : server.getListenSockets()) {
      out.add((InetSocketAddress) a);
    }
    return out;
  }

  /** The addresses a workstation can reach this host on, for the handshake. */
  public List<Endpoint> endpoints() {
    List<Endpoint> out = new ArrayList<>();
    for (InetSocketAddress a : boundAddresses()) {
      if (a.getAddress().isAnyLocalAddress()) {
        for (Map.Entry<InetAddress, String> e : interfaceAddresses().entrySet()) {
          out.add(endpoint(e.getKey(), a.getPort(), e.getValue()));
        }
      } else {
        out.add(endpoint(a.getAddress(), a.getPort(), interfaceName(a.getAddress())));
      }
    }
    return out;
  }

  private static Endpoint endpoint(InetAddress addr, int port, String ifName) {
    PathKind kind = PathKind.infer(ifName == null ? "" : ifName, addr);
    return Endpoint.newBuilder()
        .setAddress(addr.getHostAddress())
        .setPort(port)
        .setInterfaceName(ifName == null ? "" : ifName)
        .setKind(kind.cliName())
        .build();
  }

  private static String interfaceName(InetAddress addr) {
    try {
      NetworkInterface ni = NetworkInterface.getByInetAddress(addr);
      return ni == null ? null : ni.getName();
    } catch (SocketException e) {
      return null;
    }
  }

  private static Map<InetAddress, String> interfaceAddresses() {
    Map<InetAddress, String> out = new java.util.LinkedHashMap<>();
    try {
      for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!ni.isUp()) {
          continue;
        }
        for (InetAddress a : Collections.list(ni.getInetAddresses())) {
          if (a instanceof java.net.Inet4Address) {
            out.put(a, ni.getName());
          }
        }
      }
    } catch (SocketException e) {
      // no interfaces to report
    }
    return out;
  }

  /**
   * Graceful: refuse new calls, wait up to {@code grace} for running ones, then force; then
   * stop the call pool (interrupting what still runs there).
   */
  public void close(long grace, TimeUnit unit) throws InterruptedException {
    if (server == null) {
      return;
    }
    try {
      server.shutdown();
      if (!server.awaitTermination(grace, unit)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } finally {
      callPool.shutdownNow();
    }
  }

  @Override
  public void close() {
    try {
      close(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
      callPool.shutdownNow();
    }
  }

  /** Validating builder; every field has a default except identity, peers and event loops. */
  public static final class Builder {
    private DeviceIdentity identity;
    private PeerStore peers;
    private PairingCodes codes = new PairingCodes(java.time.Clock.systemUTC());
    private TransportFactory transport;
    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private List<InetSocketAddress> listen = List.of(new InetSocketAddress(LinkPath.DEFAULT_PORT));
    private TuningProfile tuning = TuningProfile.defaults(PathKind.THUNDERBOLT);
    private final List<BindableService> services = new ArrayList<>();
    private final java.util.Set<String> subscriptions = new java.util.HashSet<>();
    private final java.util.Set<String> inline = new java.util.HashSet<>();
    private final List<ServerServiceDefinition> serviceDefinitions = new ArrayList<>();
    private List<String> capabilities = List.of("link/1");
    private BulkAcceptor bulk;
    private Consumer<HandshakeRequest> onHandshake = r -> {};
    private int maxInboundMessageBytes = 16 * 1024 * 1024;

    public Builder identity(DeviceIdentity v) {
      identity = v;
      return this;
    }

    public Builder peers(PeerStore v) {
      peers = v;
      return this;
    }

    public Builder pairingCodes(PairingCodes v) {
      codes = Objects.requireNonNull(v);
      return this;
    }

    public Builder transport(TransportFactory t, EventLoopGroup boss, EventLoopGroup workers) {
      this.transport = t;
      this.boss = boss;
      this.workers = workers;
      return this;
    }

    public Builder listen(List<InetSocketAddress> v) {
      if (v.isEmpty()) {
        throw new IllegalArgumentException("listen: [] (expected: at least one address)");
      }
      listen = List.copyOf(v);
      return this;
    }

    public Builder tuning(TuningProfile v) {
      tuning = Objects.requireNonNull(v);
      return this;
    }

    public Builder addService(BindableService s) {
      services.add(s);
      return this;
    }

    public Builder addService(ServerServiceDefinition s) {
      serviceDefinitions.add(s);
      return this;
    }

    public Builder capabilities(List<String> v) {
      capabilities = List.copyOf(v);
      return this;
    }

    public Builder bulk(BulkAcceptor v) {
      bulk = v;
      return this;
    }

    /**
     * Marks a method whose calls last as long as the client wants (a watch): shutdown cuts
     * them as soon as it stops accepting instead of waiting for them ({@link ServerCallGate}).
     */
    public Builder subscription(String fullMethodName) {
      subscriptions.add(Objects.requireNonNull(fullMethodName));
      return this;
    }

    /**
     * Methods (full names, {@code package.Service/Method}) whose handlers never block: their
     * calls run on the connection's event loop, skipping the hop to a call thread and back
     * for every message. For token streams, whose first token pays for each hop.
     */
    public Builder inline(java.util.Set<String> fullMethodNames) {
      for (String m : fullMethodNames) {
        if (m == null || m.indexOf('/') <= 0) {
          throw new IllegalArgumentException("inline: " + m + " (expected: a full method name, package.Service/Method)");
        }
      }
      inline.addAll(fullMethodNames);
      return this;
    }

    public Builder onHandshake(Consumer<HandshakeRequest> v) {
      onHandshake = v;
      return this;
    }

    public Builder maxInboundMessageBytes(int v) {
      if (v < 1024) {
        throw new IllegalArgumentException("maxInboundMessageBytes: " + v + " (expected: >= 1024)");
      }
      maxInboundMessageBytes = v;
      return this;
    }

    public LinkServer build() {
      Objects.requireNonNull(identity, "identity");
      Objects.requireNonNull(peers, "peers");
      Objects.requireNonNull(transport, "transport");
      return new LinkServer(this);
    }
  }
}
