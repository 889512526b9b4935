package dev.thunderlink.transport.internal;

import dev.thunderlink.proto.link.PairingGrpc;
import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.PeerStore;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authorizes every call on the link server: the Pairing service is open to any client that
 * completed TLS with a certificate; everything else requires the client's certificate to be
 * pinned. Puts the peer's identity into the gRPC {@link Context} for services.
 *
 * <p>Runs on gRPC's call executor; stateless apart from the thread-safe peer store.
 */
public final class PeerAuthInterceptor implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(PeerAuthInterceptor.class);

  private final PeerStore peers;

  public PeerAuthInterceptor(PeerStore peers) {
    this.peers = peers;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    X509Certificate cert = peerCertificate(call);
    if (cert == null) {
      call.close(Status.UNAUTHENTICATED.withDescription("no client certificate"), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    String fp = DeviceIdentity.fingerprint(cert);
    boolean pairing = call.getMethodDescriptor().getServiceName().equals(PairingGrpc.SERVICE_NAME);
    if (!pairing && !peers.isPinned(fp)) {
      log.warn(
          "refused call {} from {}: device {} is not paired",
          call.getMethodDescriptor().getFullMethodName(),
          call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR),
          DeviceIdentity.deviceIdOf(fp));
      call.close(
          Status.UNAUTHENTICATED.withDescription(
              "device " + DeviceIdentity.deviceIdOf(fp)
                  + " is not paired with this host; run `thunderlink pair` on the host and `thunderlink pair HOST CODE` here"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    Context ctx =
        Context.current()
            .withValue(PeerContextKeys.CERTIFICATE, cert)
            .withValue(PeerContextKeys.FINGERPRINT, fp);
    return Contexts.interceptCall(ctx, call, headers, next);
  }

  private static X509Certificate peerCertificate(ServerCall<?, ?> call) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return null;
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }
}
