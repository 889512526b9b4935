package dev.thunderlink.daemon.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thunderlink.proto.control.ControlGrpc;
import dev.thunderlink.proto.control.ControlPingRequest;
import dev.thunderlink.proto.control.ControlPingResponse;
import dev.thunderlink.proto.control.NewPairingCodeRequest;
import dev.thunderlink.proto.control.NewPairingCodeResponse;
import dev.thunderlink.proto.control.PathStatus;
import dev.thunderlink.proto.control.PeerIdentity;
import dev.thunderlink.proto.control.PeersRequest;
import dev.thunderlink.proto.control.PeersResponse;
import dev.thunderlink.proto.control.StatusRequest;
import dev.thunderlink.proto.control.StatusResponse;
import dev.thunderlink.proto.control.UnpairRequest;
import dev.thunderlink.proto.control.UnpairResponse;
import dev.thunderlink.proto.link.HandshakeRequest;
import dev.thunderlink.proto.link.HandshakeResponse;
import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkServer;
import dev.thunderlink.transport.LinkVersion;
import dev.thunderlink.transport.PairedPeer;
import dev.thunderlink.transport.PairingCodes;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PathSnapshot;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.TlsContexts;
import dev.thunderlink.transport.TuningProfile;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The local control service of either daemon. Runs on gRPC's executor; reads state owned
 * by the daemon through thread-safe accessors only.
 */
public final class ControlService extends ControlGrpc.ControlImplBase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final dev.thunderlink.transport.bulk.BulkConfig BULK =
      dev.thunderlink.transport.bulk.BulkConfig.defaults(java.util.List.of());

  private final DaemonState rt;
  private final String role;
  private final PeerLink link;
  private final LinkServer server;
  private final PairingCodes codes;
  private final Supplier<Optional<HandshakeRequest>> lastWorkstation;
  private final Supplier<? extends Map<String, Double>> metrics;

  /** What the control service needs to know about the daemon it belongs to. */
  public interface DaemonState {
    DeviceIdentity identity();

    dev.thunderlink.transport.PeerStore peers();

    String transportName();

    long uptimeMillis();

    String homeDir();
  }

  public ControlService(
      DaemonState rt,
      String role,
      PeerLink link,
      LinkServer server,
      PairingCodes codes,
      Supplier<Optional<HandshakeRequest>> lastWorkstation,
      Supplier<? extends Map<String, Double>> metrics) {
    this.rt = rt;
    this.metrics = metrics;
    this.role = role;
    this.link = link;
    this.server = server;
    this.codes = codes;
    this.lastWorkstation = lastWorkstation;
  }

  @Override
  public void status(StatusRequest req, StreamObserver<StatusResponse> out) {
    StatusResponse.Builder b =
        StatusResponse.newBuilder()
            .setRole(role)
            .setDaemonVersion(LinkVersion.DAEMON)
            .setProtocolVersion(LinkVersion.PROTOCOL)
            .setDeviceId(rt.identity().deviceId())
            .setDeviceName(rt.identity().deviceName())
            .setTransport(rt.transportName())
            .setTlsProvider(TlsContexts.providerDescription())
            .setUptimeMillis(rt.uptimeMillis())
            .setPid(ProcessHandle.current().pid())
            .setHome(rt.homeDir())
            .setTuningJson(tuningJson())
            .putAllMetrics(metrics.get());
    if (link != null) {
      for (PathSnapshot s : link.paths()) {
        b.addPaths(
            PathStatus.newBuilder()
                .setName(s.path().name())
                .setAddress(s.path().address().getAddress().getHostAddress() + ":" + s.path().address().getPort())
                .setKind(s.path().kind().cliName())
                .setState(s.state().cliName())
                .setActive(s.active())
                .setRttMicros(s.rttMicros())
                .setLastChangeUnixMillis(s.lastChangeMillis())
                .setLastError(s.lastError())
                .setBulkMode(
                    BULK.encrypts(s.path().kind())
                        ? "tls"
                        : "plaintext (zero-copy or lz4; integrity from hashes over the authenticated control plane)"));
      }
      link.activePath().ifPresent(b::setActivePath);
      b.setClockSkewMillis(link.clockSkewMillis());
      Optional<HandshakeResponse> peer = link.peer();
      if (peer.isPresent()) {
        HandshakeResponse p = peer.get();
        b.setPeer(
            PeerIdentity.newBuilder()
                .setDeviceId(p.getDeviceId())
                .setDeviceName(p.getDeviceName())
                .setDaemonVersion(p.getDaemonVersion())
                .setProtocolVersion(p.getProtocolVersion())
                .setFingerprint(fingerprintOf(p.getDeviceId()))
                .setConnected(link.activePath().isPresent()));
      }
    }
    if (server != null) {
      for (InetSocketAddress a : server.boundAddresses()) {
        b.addListen(a.getAddress().getHostAddress() + ":" + a.getPort());
      }
      lastWorkstation.get()
          .ifPresent(
              h ->
                  b.setPeer(
                      PeerIdentity.newBuilder()
                          .setDeviceId(h.getDeviceId())
                          .setDeviceName(h.getDeviceName())
                          .setDaemonVersion(h.getDaemonVersion())
                          .setProtocolVersion(h.getProtocolVersion())
                          .setFingerprint(fingerprintOf(h.getDeviceId()))
                          .setConnected(true)));
    }
    out.onNext(b.build());
    out.onCompleted();
  }

  private String fingerprintOf(String deviceId) {
    for (PairedPeer p : rt.peers().peers()) {
      if (p.deviceId().equals(deviceId)) {
        return p.fingerprint();
      }
    }
    return "";
  }

  private java.util.function.Function<PathKind, TuningProfile> tuning; // null: the link's, or the built-in ones

  /**
   * The profiles {@code status} shows on a host (its listener's, from {@code [tuning.<kind>]});
   * a workstation's are its link's.
   */
  public ControlService tuning(java.util.function.Function<PathKind, TuningProfile> t) {
    this.tuning = java.util.Objects.requireNonNull(t);
    return this;
  }

  private String tuningJson() {
    Map<String, TuningProfile> m = new LinkedHashMap<>();
    for (PathKind k : PathKind.values()) {
      m.put(k.cliName(), tuning != null ? tuning.apply(k) : link != null ? link.tuning(k) : TuningProfile.defaults(k));
    }
    try {
      return JSON.writeValueAsString(m);
    } catch (IOException e) {
      return "{}";
    }
  }

  @Override
  public void ping(ControlPingRequest req, StreamObserver<ControlPingResponse> out) {
    if (link == null) {
      out.onError(
          Status.FAILED_PRECONDITION
              .withDescription("ping runs on the workstation: it measures the link from there to the host")
              .asRuntimeException());
      return;
    }
    int count = req.getCount() == 0 ? 10 : req.getCount();
    if (count > 100_000) {
      out.onError(Status.INVALID_ARGUMENT.withDescription("count: " + count + " (expected: 1..100000)").asRuntimeException());
      return;
    }
    try {
      PeerLink.PingResult r =
          link.ping(req.getPath(), count, Duration.ofMillis(req.getIntervalMillis()), req.getPayloadBytes());
      out.onNext(
          ControlPingResponse.newBuilder()
              .setPath(r.path())
              .setSent(r.sent())
              .setReceived(r.rttNanos().size())
              .addAllRttNanos(r.rttNanos())
              .build());
      out.onCompleted();
    } catch (IllegalArgumentException e) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
    } catch (IllegalStateException e) {
      out.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      out.onError(Status.CANCELLED.withDescription("interrupted").asRuntimeException());
    }
  }

  @Override
  public void peers(PeersRequest req, StreamObserver<PeersResponse> out) {
    PeersResponse.Builder b = PeersResponse.newBuilder();
    for (PairedPeer p : rt.peers().peers()) {
      b.addPeers(
          PeerIdentity.newBuilder()
              .setDeviceId(p.deviceId())
              .setDeviceName(p.deviceName())
              .setFingerprint(p.fingerprint()));
    }
    out.onNext(b.build());
    out.onCompleted();
  }

  @Override
  public void unpair(UnpairRequest req, StreamObserver<UnpairResponse> out) {
    try {
      out.onNext(UnpairResponse.newBuilder().setRemoved(rt.peers().remove(req.getDeviceId())).build());
      out.onCompleted();
    } catch (IOException e) {
      out.onError(Status.INTERNAL.withDescription("cannot write peers: " + e.getMessage()).asRuntimeException());
    }
  }

  @Override
  public void newPairingCode(NewPairingCodeRequest req, StreamObserver<NewPairingCodeResponse> out) {
    if (codes == null) {
      out.onError(
          Status.FAILED_PRECONDITION
              .withDescription("pairing codes come from the host; on the workstation run `thunderlink pair HOST CODE`")
              .asRuntimeException());
      return;
    }
    try {
      Duration ttl = req.getTtlSeconds() == 0 ? PairingCodes.DEFAULT_TTL : Duration.ofSeconds(req.getTtlSeconds());
      PairingCodes.Issued issued = codes.issue(ttl);
      NewPairingCodeResponse.Builder b =
          NewPairingCodeResponse.newBuilder()
              .setCode(issued.code())
              .setExpiresUnixMillis(issued.expires().toEpochMilli())
              .setFingerprint(rt.identity().fingerprint());
      if (server != null) {
        server.endpoints().forEach(e -> b.addAddresses(e.getAddress() + ":" + e.getPort()));
      }
      out.onNext(b.build());
      out.onCompleted();
    } catch (IllegalArgumentException e) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
    }
  }
}
