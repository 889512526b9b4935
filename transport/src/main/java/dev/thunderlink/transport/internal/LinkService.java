package dev.thunderlink.transport.internal;

import dev.thunderlink.proto.link.Endpoint;
import dev.thunderlink.proto.link.HandshakeRequest;
import dev.thunderlink.proto.link.HandshakeResponse;
import dev.thunderlink.proto.link.LinkGrpc;
import dev.thunderlink.proto.link.PathsRequest;
import dev.thunderlink.proto.link.PathsResponse;
import dev.thunderlink.proto.link.PingRequest;
import dev.thunderlink.proto.link.PingResponse;
import dev.thunderlink.proto.link.Role;
import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkVersion;
import dev.thunderlink.transport.PeerContext;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's side of the Link service. Runs on gRPC's executor; stateless apart from what
 * the suppliers return.
 */
public final class LinkService extends LinkGrpc.LinkImplBase {
  private static final Logger log = LoggerFactory.getLogger(LinkService.class);

  private final DeviceIdentity identity;
  private final Role role;
  private final List<String> capabilities;
  private final Supplier<List<Endpoint>> endpoints;
  private final Consumer<HandshakeRequest> onHandshake;

  public LinkService(
      DeviceIdentity identity,
      Role role,
      List<String> capabilities,
      Supplier<List<Endpoint>> endpoints,
      Consumer<HandshakeRequest> onHandshake) {
    this.identity = identity;
    this.role = role;
    this.capabilities = List.copyOf(capabilities);
    this.endpoints = endpoints;
    this.onHandshake = onHandshake;
  }

  @Override
  public void handshake(HandshakeRequest req, StreamObserver<HandshakeResponse> out) {
    String why = LinkVersion.incompatibility(req.getProtocolVersion(), req.getDaemonVersion(), "workstation");
    if (why != null) {
      log.error("refused workstation {} ({}): {}", req.getDeviceName(), PeerContext.deviceId(), why);
      out.onError(Status.FAILED_PRECONDITION.withDescription(why).asRuntimeException());
      return;
    }
    onHandshake.accept(req);
    out.onNext(
        HandshakeResponse.newBuilder()
            .setProtocolVersion(LinkVersion.PROTOCOL)
            .setDaemonVersion(LinkVersion.DAEMON)
            .setDeviceId(identity.deviceId())
            .setDeviceName(identity.deviceName())
            .setRole(role)
            .addAllCapabilities(capabilities)
            .addAllEndpoints(endpoints.get())
            .setUnixMillis(System.currentTimeMillis())
            .build());
    out.onCompleted();
  }

  @Override
  public void ping(PingRequest req, StreamObserver<PingResponse> out) {
    out.onNext(
        PingResponse.newBuilder()
            .setSequence(req.getSequence())
            .setPayload(req.getPayload())
            .setServerNanos(System.nanoTime())
            .build());
    out.onCompleted();
  }

  @Override
  public void paths(PathsRequest req, StreamObserver<PathsResponse> out) {
    out.onNext(PathsResponse.newBuilder().addAllEndpoints(endpoints.get()).build());
    out.onCompleted();
  }
}
