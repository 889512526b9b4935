package dev.thunderlink.transport.bulk;

import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PathSnapshot;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.PeerStore;
import dev.thunderlink.transport.TlsContexts;
import dev.thunderlink.transport.TransportFactory;
import io.grpc.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * The workstation side of the bulk plane: opens {@link BulkSession}s to the host over the
 * link's active path — a session on the control channel, then a bulk connection to the same
 * address and port. Plaintext only when the path is Thunderbolt (or loopback) and the config
 * allows it; TLS with the pinned host certificate otherwise.
 *
 * <p>Thread-safe; sessions are independent.
 */
public final class BulkClient {
  final BulkConfig config;
  final TransportFactory transport;
  final EventLoopGroup group;
  final Channel control;
  final Supplier<Optional<LinkPath>> target;
  final Consumer<String> traffic;
  /** Socket options of a bulk connection by its path's kind (a link's client: the link's profiles). */
  final java.util.function.Function<dev.thunderlink.transport.PathKind, dev.thunderlink.transport.TuningProfile> tuning;
  final SslContext tls;
  /** Whether a host certificate's fingerprint is pinned, asked after every TLS handshake. */
  final java.util.function.Predicate<String> trusts;
  final BulkCounters counters = new BulkCounters();

  private BulkClient(Builder b) throws SSLException {
    this.config = b.config;
    this.transport = b.transport;
    this.group = b.group;
    this.control = b.control;
    this.target = b.target;
    this.traffic = b.traffic;
    this.tuning = b.tuning;
    String host = b.hostFingerprint;
    PeerStore peers = b.peers;
    this.trusts = fp -> fp != null && (host != null ? host.equalsIgnoreCase(fp) : peers.isPinned(fp));
    this.tls = TlsContexts.bulkClient(b.identity, trusts);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A client on a workstation's link: its channel and whichever path is active. */
  public static Builder forLink(PeerLink link) {
    return builder().control(link.channel()).target(() -> activePath(link)).traffic(link::trafficOn).tuning(link::tuning);
  }

  static Optional<LinkPath> activePath(PeerLink link) {
    for (PathSnapshot s : link.paths()) {
      if (s.active()) {
        return Optional.of(s.path());
      }
    }
    return Optional.empty();
  }

  /** The path a session opened now would run over (empty: none is up). */
  public Optional<LinkPath> target() {
    return target.get();
  }

  /** Opens a session (blocking: a gRPC call, a connection, a handshake). */
  public BulkSession open() throws BulkException {
    return BulkSession.open(this);
  }

  /** What this client sent and received, per mode. */
  public BulkCounters counters() {
    return counters;
  }

  /** The socket options a bulk connection on a path of {@code kind} gets. */
  public dev.thunderlink.transport.TuningProfile tuning(dev.thunderlink.transport.PathKind kind) {
    return tuning.apply(kind);
  }

  public BulkConfig config() {
    return config;
  }

  /** Validating builder. */
  public static final class Builder {
    private BulkConfig config = BulkConfig.defaults(java.util.List.of());
    private DeviceIdentity identity;
    private PeerStore peers;
    private String hostFingerprint;
    private TransportFactory transport;
    private EventLoopGroup group;
    private Channel control;
    private Supplier<Optional<LinkPath>> target;
    private Consumer<String> traffic = path -> {};
    private java.util.function.Function<dev.thunderlink.transport.PathKind, dev.thunderlink.transport.TuningProfile> tuning =
        dev.thunderlink.transport.TuningProfile::defaults;

    /** The connections' socket options by path kind (default: the built-in profiles). */
    public Builder tuning(
        java.util.function.Function<dev.thunderlink.transport.PathKind, dev.thunderlink.transport.TuningProfile> v) {
      tuning = Objects.requireNonNull(v);
      return this;
    }

    public Builder config(BulkConfig v) {
      config = Objects.requireNonNull(v);
      return this;
    }

    public Builder identity(DeviceIdentity v) {
      identity = v;
      return this;
    }

    /** Trust any pinned peer as the host. */
    public Builder peers(PeerStore v) {
      peers = v;
      return this;
    }

    /** Trust exactly this host certificate. */
    public Builder hostFingerprint(String v) {
      hostFingerprint = v;
      return this;
    }

    public Builder transport(TransportFactory t, EventLoopGroup g) {
      transport = t;
      group = g;
      return this;
    }

    /** The gRPC channel to the host (the link's routing channel). */
    public Builder control(Channel v) {
      control = v;
      return this;
    }

    /** The path bulk connections go to (the link's active path). */
    public Builder target(Supplier<Optional<LinkPath>> v) {
      target = v;
      return this;
    }

    /**
     * Told the path's name while a bulk connection shows the host alive on it (data arrives, or
     * the host drains what was sent), at most every {@code 50 ms}; on the event loop, so it must
     * not block. The link uses it so a busy path is not declared down ({@link PeerLink#trafficOn}).
     */
    public Builder traffic(Consumer<String> v) {
      traffic = Objects.requireNonNull(v);
      return this;
    }

    public BulkClient build() throws SSLException {
      Objects.requireNonNull(identity, "identity");
      Objects.requireNonNull(transport, "transport");
      Objects.requireNonNull(group, "group");
      Objects.requireNonNull(control, "control");
      Objects.requireNonNull(target, "target");
      if (peers == null && hostFingerprint == null) {
        throw new IllegalArgumentException("bulk client: peers or hostFingerprint (expected: one of them, to trust the host)");
      }
      return new BulkClient(this);
    }
  }
}
