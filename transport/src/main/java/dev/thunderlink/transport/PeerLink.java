package dev.thunderlink.transport;

import com.google.protobuf.ByteString;
import dev.thunderlink.proto.link.Endpoint;
import dev.thunderlink.proto.link.HandshakeRequest;
import dev.thunderlink.proto.link.HandshakeResponse;
import dev.thunderlink.proto.link.LinkGrpc;
import dev.thunderlink.proto.link.PingRequest;
import dev.thunderlink.proto.link.Role;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workstation's link to its host over every path it knows: probes each path, uses the
 * best, keeps the others warm, fails over when the active path stops answering and moves
 * back when a better one returns.
 *
 * <p>Design. A pulled Thunderbolt cable does not reset connections: they hang. So a path's
 * health is judged by application-level probes with a deadline ({@link
 * TuningProfile#probeIntervalMillis()} apart, {@link TuningProfile#probeDeadlineMillis()}
 * each), never by errors alone; {@link TuningProfile#missedProbesToDown()} lost probes in a
 * row mark it down, which bounds failover at about interval × (n − 1) + deadline (≈ 1 s with
 * the defaults; probes overlap so a slow one does not delay the next). A downed path's channel is shut down at once, so calls hanging on it fail
 * with UNAVAILABLE instead of waiting for TCP to give up, and a fresh channel keeps probing.
 * A path comes (back) up after two good probes in a row, so a flapping cable does not
 * bounce traffic. Selection prefers the path kind first (Thunderbolt, loopback, LAN,
 * Wi-Fi), then RTT; within a kind it switches only for an RTT under half the current one.
 *
 * <p>Threads: one scheduler thread ("thunderlink-path-monitor") sends probes; probe
 * results arrive on gRPC's executor. All path state is guarded by {@code this}. {@link
 * #channel()} may be used from any thread.
 */
public final class PeerLink implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PeerLink.class);
  /**
   * Probes overlap: a new one goes out every interval even while earlier ones wait for their
   * deadline, so a dead path is declared down after about interval × (n − 1) + deadline.
   */
  private static final int MAX_PROBES_IN_FLIGHT = 4;

  private final Builder b;
  private final SslContext tls;
  private final Map<String, PathEntry> paths = new LinkedHashMap<>();
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "thunderlink-path-monitor");
            t.setDaemon(true);
            return t;
          });
  private final Channel routing = new ActivePathChannel();
  private String active;
  private volatile HandshakeResponse peer; // written under the link's lock, read outside it by hostStillPaired
  /** Failed retries of refused paths (a test hook: a retry happened). */
  private final AtomicLong refusedRetries = new AtomicLong();
  private long clockSkewMillis;
  private volatile boolean closed;

  private PeerLink(Builder b) throws SSLException {
    this.b = b;
    this.tls =
        TlsContexts.grpcClient(
            b.identity,
            fp -> b.hostFingerprint != null ? b.hostFingerprint.equalsIgnoreCase(fp) : b.peers.isPinned(fp));
    for (LinkPath p : b.paths) {
      paths.put(p.name(), new PathEntry(p));
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Starts probing every path. Returns at once; see {@link #awaitActive(Duration)}. */
  public PeerLink start() {
    int interval =
        b.paths.stream().mapToInt(p -> tuningOf(p).probeIntervalMillis()).min().orElse(250);
    scheduler.scheduleWithFixedDelay(this::probeAll, 0, interval, TimeUnit.MILLISECONDS);
    return this;
  }

  private TuningProfile tuningOf(LinkPath p) {
    return tuning(p.kind());
  }

  /** The profile this link uses on paths of {@code kind} (its builder's, else the built-in one). */
  public TuningProfile tuning(PathKind kind) {
    return b.tuning.getOrDefault(kind, TuningProfile.defaults(kind));
  }

  /** A channel that sends every new call over the active path (UNAVAILABLE when none is up). */
  public Channel channel() {
    return routing;
  }

  /** Waits until some path is active. */
  public boolean awaitActive(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      while (active == null && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return active != null;
    }
  }

  /** Empty while a path to the host is up; otherwise why none is, path by path. */
  public synchronized Optional<String> unreachable() {
    return active != null ? Optional.empty() : Optional.of("no path to the host is up (" + describePaths() + ")");
  }

  public synchronized Optional<String> activePath() {
    return Optional.ofNullable(active);
  }

  /** The host's handshake answer, once a path has completed one. */
  public synchronized Optional<HandshakeResponse> peer() {
    return Optional.ofNullable(peer);
  }

  /** The host's clock minus ours, estimated at the last handshake. */
  public synchronized long clockSkewMillis() {
    return clockSkewMillis;
  }

  public synchronized List<PathSnapshot> paths() {
    List<PathSnapshot> out = new ArrayList<>();
    for (PathEntry e : paths.values()) {
      out.add(e.snapshot(e.path.name().equals(active)));
    }
    return out;
  }

  /**
   * Measures RTT with {@code count} pings of {@code payloadBytes} over a path (null: the
   * active one), {@code interval} apart. Returns the RTT of each answered ping in
   * nanoseconds; lost pings are left out. Blocking.
   */
  public PingResult ping(String pathName, int count, Duration interval, int payloadBytes)
      throws InterruptedException {
    String name;
    ManagedChannel ch;
    synchronized (this) {
      name = pathName == null || pathName.isEmpty() ? active : pathName;
      if (name == null) {
        throw new IllegalStateException("no path to the host is up: " + describePaths());
      }
      PathEntry e = paths.get(name);
      if (e == null) {
        throw new IllegalArgumentException("path: " + pathName + " (expected one of " + paths.keySet() + ")");
      }
      ch = e.channel();
    }
    LinkGrpc.LinkBlockingStub stub = LinkGrpc.newBlockingStub(ch);
    ByteString payload = ByteString.copyFrom(new byte[Math.max(0, payloadBytes)]);
    List<Long> rtts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long t0 = System.nanoTime();
      try {
        stub.withDeadlineAfter(1, TimeUnit.SECONDS)
            .ping(PingRequest.newBuilder().setSequence(i).setPayload(payload).build());
        rtts.add(System.nanoTime() - t0);
      } catch (StatusRuntimeException e) {
        log.debug("ping {} over {} lost: {}", i, name, e.getStatus());
      }
      if (i + 1 < count && !interval.isZero()) {
        Thread.sleep(interval.toMillis()); // pacing between pings, not waiting for a condition
      }
    }
    return new PingResult(name, count, rtts);
  }

  /** The outcome of {@link #ping}. */
  public record PingResult(String path, int sent, List<Long> rttNanos) {}

  /**
   * Something arrived from the host over {@code pathName} outside this link's channel (the bulk
   * connection, which runs to the same address): the path is delivering. Counts like an answer
   * on the channel does, so that probes late behind a copy's data are not taken for lost ones
   * (a 1 GiB copy had its path declared down mid-way and took 58 s instead of 5). Cheap; any
   * thread.
   */
  public void trafficOn(String pathName) {
    PathEntry e;
    synchronized (this) {
      e = paths.get(pathName);
    }
    if (e != null) {
      e.heardNanos.set(System.nanoTime());
    }
  }

  // ---- probing -------------------------------------------------------------------------

  private void probeAll() {
    if (closed) {
      return;
    }
    List<PathEntry> entries;
    synchronized (this) {
      entries = new ArrayList<>(paths.values());
    }
    for (PathEntry e : entries) {
      try {
        probe(e);
      } catch (RuntimeException ex) {
        log.warn("probe of path {} failed to start: {}", e.path.name(), ex.toString());
      }
    }
  }

  private void probe(PathEntry e) {
    // asked outside the link's lock: the store may read peers.json again (at most twice a second)
    if (!hostStillPaired() && refusedAsUnpaired(e)) {
      return;
    }
    ManagedChannel ch;
    boolean handshake;
    synchronized (this) {
      if (e.inFlight >= MAX_PROBES_IN_FLIGHT || (!e.handshaken && e.inFlight > 0) || e.state == PathState.REFUSED && System.currentTimeMillis() - e.refusedAt < b.refusedRetryMillis) {
        return;
      }
      e.inFlight++;
      ch = e.channel();
      handshake = !e.handshaken;
      if (ch.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
        ch.resetConnectBackoff(); // probe again now, not after gRPC's exponential backoff
      }
    }
    TuningProfile t = tuningOf(e.path);
    LinkGrpc.LinkStub stub = LinkGrpc.newStub(ch).withDeadlineAfter(t.probeDeadlineMillis(), TimeUnit.MILLISECONDS);
    long t0 = System.nanoTime();
    if (handshake) {
      stub.handshake(
          HandshakeRequest.newBuilder()
              .setProtocolVersion(LinkVersion.PROTOCOL)
              .setDaemonVersion(LinkVersion.DAEMON)
              .setDeviceId(b.identity.deviceId())
              .setDeviceName(b.identity.deviceName())
              .setRole(Role.ROLE_WORKSTATION)
              .addAllCapabilities(b.capabilities)
              .setPathName(e.path.name())
              .setUnixMillis(System.currentTimeMillis())
              .build(),
          new Observer<>(e, ch, t0) {
            @Override
            public void onNext(HandshakeResponse r) {
              long now = System.currentTimeMillis();
              long rttMillis = (System.nanoTime() - t0) / 1_000_000;
              synchronized (PeerLink.this) {
                clockSkewMillis = r.getUnixMillis() - (now - rttMillis / 2);
              }
              String why = LinkVersion.incompatibility(r.getProtocolVersion(), r.getDaemonVersion(), "host");
              if (why != null) {
                refused(e, why);
                return;
              }
              if (!paired(r.getDeviceId())) {
                // a resumed TLS session skips the pin check: without this, a retry after an
                // unpair came up for a probe's time before the next probe refused it again
                refused(e, unpairedReason(r));
                return;
              }
              handshaken(e, r);
            }
          });
    } else {
      stub.ping(PingRequest.newBuilder().setSequence(e.sequence++).build(), new Observer<>(e, ch, t0) {});
    }
  }

  private abstract class Observer<T> implements StreamObserver<T> {
    private final PathEntry e;
    private final ManagedChannel ch;
    private final long t0;

    Observer(PathEntry e, ManagedChannel ch, long t0) {
      this.e = e;
      this.ch = ch;
      this.t0 = t0;
    }

    @Override
    public void onNext(T value) {}

    @Override
    public void onError(Throwable t) {
      Status s = Status.fromThrowable(t);
      if (s.getCode() == Status.Code.FAILED_PRECONDITION || s.getCode() == Status.Code.UNAUTHENTICATED) {
        refused(e, s.getDescription());
      }
      if (s.getCode() == Status.Code.DEADLINE_EXCEEDED && e.heardNanos.get() - t0 > 0) {
        late(e, ch); // the answer is queued behind data that is still arriving: busy, not lost
        return;
      }
      result(e, ch, -1, describe(s));
    }

    @Override
    public void onCompleted() {
      result(e, ch, System.nanoTime() - t0, null);
    }
  }

  private static String describe(Status s) {
    String d = s.getDescription();
    if (s.getCode() == Status.Code.DEADLINE_EXCEEDED) {
      return "no answer within the probe deadline";
    }
    if (s.getCause() != null && s.getCause().getMessage() != null) {
      d = (d == null ? "" : d + ": ") + s.getCause().getMessage();
    }
    return s.getCode() + (d == null ? "" : " " + d);
  }

  private synchronized void handshaken(PathEntry e, HandshakeResponse r) {
    e.handshaken = true;
    if (e.state == PathState.REFUSED) {
      // refused before (unpaired, or an incompatible version), accepted now: paired again, upgraded
      log.info("path {}: the host accepts this workstation again", e.path.name());
      e.setState(PathState.PROBING, "");
    }
    if (peer == null || !peer.getDeviceId().equals(r.getDeviceId())) {
      log.info("connected to host {} ({}, thunderlink {}) over {}", r.getDeviceName(), r.getDeviceId(), r.getDaemonVersion(), e.path);
    }
    peer = r;
    if (b.discover) {
      learn(r.getEndpointsList());
    }
  }

  private void learn(List<Endpoint> endpoints) {
    for (Endpoint ep : endpoints) {
      try {
        InetAddress a = InetAddress.getByName(ep.getAddress());
        if (a.isLoopbackAddress() || a.isAnyLocalAddress()) {
          continue;
        }
        InetSocketAddress sa = new InetSocketAddress(a, ep.getPort());
        boolean known = paths.values().stream().anyMatch(p -> p.path.address().equals(sa));
        if (known) {
          continue;
        }
        PathKind kind = PathKind.parse(ep.getKind());
        String name = (kind.cliName() + "-" + ep.getAddress()).replace(':', '.');
        LinkPath p = new LinkPath(name.length() > 32 ? name.substring(0, 32) : name, sa, kind);
        paths.put(p.name(), new PathEntry(p));
        log.info("learned path {} from the host", p);
      } catch (Exception ex) {
        log.debug("ignored endpoint {}: {}", ep, ex.toString());
      }
    }
  }

  private synchronized void refused(PathEntry e, String why) {
    if (e.state != PathState.REFUSED) {
      log.error("host refused this workstation on path {}: {}", e.path.name(), why);
    } else {
      refusedRetries.incrementAndGet(); // a retry, refused again
    }
    e.setState(PathState.REFUSED, why);
    e.refusedAt = System.currentTimeMillis();
    e.resetChannel(); // the next try makes a new connection: a new TLS handshake judges the pairing again
    reselect("refused: " + why);
  }

  /**
   * {@code thunderlink unpair} of the host on this side: a handshaken path is refused now and its
   * connection cut, not at its next handshake. False (nothing done) for a path not handshaken or
   * already refused.
   */
  private synchronized boolean refusedAsUnpaired(PathEntry e) {
    HandshakeResponse p = peer;
    if (!e.handshaken || e.state == PathState.REFUSED || p == null) {
      return false;
    }
    refused(e, unpairedReason(p));
    return true;
  }

  private static String unpairedReason(HandshakeResponse host) {
    return "host " + host.getDeviceName() + " (" + host.getDeviceId() + ") is no longer paired with this workstation"
        + " (`thunderlink unpair` removed it); pair again with `thunderlink pair HOST CODE`";
  }

  /** Failed retries of refused paths so far (tests). */
  long refusedRetries() {
    return refusedRetries.get();
  }

  /** The host this link handshook with is still in the peer store (always, for a link pinned to one fingerprint). */
  private boolean hostStillPaired() {
    HandshakeResponse p = peer;
    return p == null || paired(p.getDeviceId());
  }

  /** The host {@code deviceId} is in the peer store (always true for a link pinned to one fingerprint). */
  private boolean paired(String deviceId) {
    return b.hostFingerprint != null || b.peers.peers().stream().anyMatch(x -> x.deviceId().equals(deviceId));
  }

  /**
   * A probe missed its deadline, but the host sent something on the same connection after the
   * probe went out (a bulk of sync data or a token stream filling the socket buffers ahead of
   * the answer). The path is delivering, so this is not counted as a lost probe: under a heavy
   * transfer or a starved CPU the path would otherwise be declared down and every call on it
   * cut while it works. A pulled cable delivers nothing, so its probes still count (at most
   * the probes already in flight when it was pulled can be forgiven: failover takes one
   * deadline longer at worst).
   */
  private void late(PathEntry e, ManagedChannel ch) {
    synchronized (this) {
      e.inFlight = Math.max(0, e.inFlight - 1);
      if (closed || ch != e.channel) {
        return;
      }
      if (e.state == PathState.REFUSED) {
        // a retry whose TLS handshake failed after the host's first bytes (its certificate came,
        // and was not pinned): still refused, as in result()
        e.refusedAt = System.currentTimeMillis();
        refusedRetries.incrementAndGet();
        return;
      }
      log.debug("probe of path {} answered late while data kept arriving (busy, not lost)", e.path.name());
    }
  }

  private void result(PathEntry e, ManagedChannel ch, long rttNanos, String error) {
    synchronized (this) {
      e.inFlight = Math.max(0, e.inFlight - 1);
      if (closed || ch != e.channel) {
        return; // a probe of a channel that has since been replaced
      }
      TuningProfile t = tuningOf(e.path);
      if (rttNanos >= 0) {
        long us = rttNanos / 1000;
        e.lastRttMicros = us;
        e.rttMicros = e.rttMicros < 0 ? us : (e.rttMicros * 4 + us) / 5;
        e.misses = 0;
        e.successes++;
        e.lastError = "";
        if (e.state == PathState.REFUSED) {
          return;
        }
        if (e.state != PathState.UP && (e.state == PathState.PROBING || e.successes >= 2) && e.handshaken) {
          e.setState(PathState.UP, "");
          log.info("path {} is up (rtt {} us)", e.path, us);
          reselect("path " + e.path.name() + " came up");
        } else if (e.state == PathState.UP) {
          reselect(null);
        }
      } else {
        e.misses++;
        e.successes = 0;
        if (e.state == PathState.REFUSED) {
          e.refusedAt = System.currentTimeMillis(); // still refused: the next try later, and the refusal's reason stays
          refusedRetries.incrementAndGet();
          return;
        }
        e.lastError = error == null ? "" : error;
        if ((e.state == PathState.UP || e.state == PathState.PROBING) && e.misses >= t.missedProbesToDown()) {
          boolean wasUp = e.state == PathState.UP;
          e.setState(PathState.DOWN, e.lastError);
          if (wasUp) {
            log.warn("path {} is down: {} probes lost ({})", e.path, e.misses, e.lastError);
            e.resetChannel(); // fail calls hanging on the dead connection now
          }
          reselect("path " + e.path.name() + " went down");
        }
      }
    }
  }

  /** Picks the active path. Caller holds the lock. */
  private void reselect(String reason) {
    PathEntry current = active == null ? null : paths.get(active);
    PathEntry best =
        paths.values().stream()
            .filter(p -> p.state == PathState.UP)
            .min(Comparator.<PathEntry>comparingInt(p -> p.path.kind().preference())
                .thenComparingLong(p -> p.rttMicros < 0 ? Long.MAX_VALUE : p.rttMicros))
            .orElse(null);
    PathEntry next = current;
    if (current == null || current.state != PathState.UP) {
      next = best;
    } else if (best != null && best != current) {
      if (best.path.kind().preference() < current.path.kind().preference()) {
        next = best;
      } else if (best.path.kind().preference() == current.path.kind().preference()
          && best.rttMicros >= 0 && best.rttMicros * 2 < current.rttMicros) {
        next = best;
      }
    }
    String nextName = next == null ? null : next.path.name();
    if (!Objects.equals(nextName, active)) {
      String from = active;
      active = nextName;
      String why = reason == null ? "better path" : reason;
      if (nextName == null) {
        log.warn("no path to the host is up ({}); calls fail until one returns", why);
      } else {
        log.info("active path: {} -> {} ({})", from == null ? "none" : from, nextName, why);
      }
      PathChange change = new PathChange(from, nextName, why, System.currentTimeMillis());
      notifyAll();
      scheduler.execute(() -> b.listener.accept(change));
    }
  }

  /** An active-path change, for listeners. */
  public record PathChange(String from, String to, String reason, long atMillis) {}

  private String describePaths() {
    List<String> s = new ArrayList<>();
    for (PathEntry e : paths.values()) {
      s.add(e.path.name() + ": " + e.state.cliName() + (e.lastError.isEmpty() ? "" : " (" + e.lastError + ")"));
    }
    return String.join(", ", s);
  }

  /** Stops probing and closes every channel (calls in flight are cancelled). */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    scheduler.shutdownNow();
    List<ManagedChannel> chans = new ArrayList<>();
    synchronized (this) {
      for (PathEntry e : paths.values()) {
        if (e.channel != null) {
          chans.add(e.channel);
        }
      }
    }
    for (ManagedChannel c : chans) {
      c.shutdown();
    }
    for (ManagedChannel c : chans) {
      try {
        if (!c.awaitTermination(2, TimeUnit.SECONDS)) {
          c.shutdownNow();
        }
      } catch (InterruptedException e) {
        c.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }

  /** One path and its probe state; guarded by the enclosing PeerLink. */
  private final class PathEntry {
    final LinkPath path;
    ManagedChannel channel;
    PathState state = PathState.PROBING;
    long rttMicros = -1;
    long lastRttMicros = -1;
    long lastChange = System.currentTimeMillis();
    String lastError = "";
    int misses;
    int successes;
    int inFlight;
    boolean handshaken;
    /** When the path was last refused (or a retry of a refused path failed): tried again {@code refusedRetry} on. */
    long refusedAt;
    long sequence;
    /** When the host last sent anything (headers or a message of any call) on this path's channel. */
    final AtomicLong heardNanos = new AtomicLong(System.nanoTime());

    PathEntry(LinkPath path) {
      this.path = path;
    }

    ManagedChannel channel() {
      if (channel == null) {
        channel = LinkChannels.newChannel(path.address(), tls, b.transport, b.group, tuningOf(path), new HeardFrom(heardNanos));
      }
      return channel;
    }

    void resetChannel() {
      if (channel != null) {
        channel.shutdownNow();
        channel = null;
      }
      handshaken = false;
      inFlight = 0;
    }

    void setState(PathState s, String error) {
      if (s != state) {
        state = s;
        lastChange = System.currentTimeMillis();
      }
      lastError = error == null ? "" : error;
    }

    PathSnapshot snapshot(boolean isActive) {
      return new PathSnapshot(path, state, isActive, rttMicros, lastRttMicros, lastChange, lastError);
    }
  }

  /** Notes the time of everything the host sends on a path's channel; runs on gRPC's callback threads. */
  private static final class HeardFrom implements ClientInterceptor {
    private final AtomicLong heard;

    HeardFrom(AtomicLong heard) {
      this.heard = heard;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<R> listener, Metadata headers) {
          super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
            @Override
            public void onHeaders(Metadata h) {
              heard.set(System.nanoTime());
              super.onHeaders(h);
            }

            @Override
            public void onMessage(R message) {
              heard.set(System.nanoTime());
              super.onMessage(message);
            }
          }, headers);
        }
      };
    }
  }

  /** Routes each new call to the active path's channel. */
  private final class ActivePathChannel extends Channel {
    @Override
    public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
      ManagedChannel ch;
      String why;
      synchronized (PeerLink.this) {
        PathEntry e = active == null ? null : paths.get(active);
        ch = e == null ? null : e.channel();
        why = ch == null ? "no path to the host is up (" + describePaths() + ")" : null;
      }
      if (ch == null) {
        return new FailingCall<>(Status.UNAVAILABLE.withDescription(why));
      }
      return ch.newCall(method, options);
    }

    @Override
    public String authority() {
      return "thunderlink";
    }
  }

  private static final class FailingCall<Q, R> extends ClientCall<Q, R> {
    private final Status status;

    FailingCall(Status status) {
      this.status = status;
    }

    @Override
    public void start(Listener<R> listener, Metadata headers) {
      listener.onClose(status, new Metadata());
    }

    @Override
    public void request(int n) {}

    @Override
    public void cancel(String message, Throwable cause) {}

    @Override
    public void halfClose() {}

    @Override
    public void sendMessage(Q message) {}
  }

  /** Validating builder. */
  public static final class Builder {
    private DeviceIdentity identity;
    private PeerStore peers;
    private String hostFingerprint;
    private TransportFactory transport;
    private EventLoopGroup group;
    private final List<LinkPath> paths = new ArrayList<>();
    private final Map<PathKind, TuningProfile> tuning = new LinkedHashMap<>();
    private List<String> capabilities = List.of("link/1");
    private boolean discover;
    private Consumer<PathChange> listener = c -> {};
    private long refusedRetryMillis = 10_000;

    /** How long a refused path (unpaired, an incompatible version) waits before it is tried again (default 10 s). */
    public Builder refusedRetry(Duration v) {
      if (v.isNegative() || v.isZero()) {
        throw new IllegalArgumentException("refused retry: " + v + " (expected: > 0)");
      }
      refusedRetryMillis = v.toMillis();
      return this;
    }

    public Builder identity(DeviceIdentity v) {
      identity = v;
      return this;
    }

    public Builder peers(PeerStore v) {
      peers = v;
      return this;
    }

    /** Accept only this host (default: any pinned peer). */
    public Builder hostFingerprint(String v) {
      hostFingerprint = v;
      return this;
    }

    public Builder transport(TransportFactory t, EventLoopGroup group) {
      this.transport = t;
      this.group = group;
      return this;
    }

    public Builder addPath(LinkPath p) {
      for (LinkPath q : paths) {
        if (q.name().equals(p.name())) {
          throw new IllegalArgumentException("path name: " + p.name() + " (expected: unique; given twice)");
        }
      }
      paths.add(p);
      return this;
    }

    public Builder tuning(TuningProfile p) {
      tuning.put(p.kind(), p);
      return this;
    }

    public Builder capabilities(List<String> v) {
      capabilities = List.copyOf(v);
      return this;
    }

    /** Also use the host's other addresses learned in the handshake. */
    public Builder discover(boolean v) {
      discover = v;
      return this;
    }

    /** Called on the monitor thread after each active-path change. */
    public Builder listener(Consumer<PathChange> v) {
      listener = Objects.requireNonNull(v);
      return this;
    }

    public PeerLink build() throws SSLException {
      Objects.requireNonNull(identity, "identity");
      Objects.requireNonNull(peers, "peers");
      Objects.requireNonNull(transport, "transport");
      if (paths.isEmpty()) {
        throw new IllegalArgumentException("paths: [] (expected: at least one HOST[:PORT] or --path NAME=ADDR:PORT)");
      }
      return new PeerLink(this);
    }
  }
}
