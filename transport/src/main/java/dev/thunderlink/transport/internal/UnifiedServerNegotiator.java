package dev.thunderlink.transport.internal;

import dev.thunderlink.transport.BulkAcceptor;
import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.InternalProtocolNegotiators;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AsciiString;

/**
 * gRPC's server TLS negotiation behind a port-unification front: one link port serves gRPC
 * and the bulk plane, and refuses everything else with a clear log line.
 *
 * <p>This uses grpc-netty's {@code Internal*} negotiator API — the supported hook for custom
 * negotiation — so it must be revisited when grpc is upgraded.
 */
public final class UnifiedServerNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
  /** The name of a TLS bulk connection's SslHandler in the server's pipeline. */
  public static final String BULK_TLS_HANDLER = "bulk-tls";

  private final InternalProtocolNegotiator.ProtocolNegotiator tls;
  private final BulkAcceptor bulk;
  private final SslContext bulkTls;
  private final java.util.function.Consumer<io.netty.channel.Channel> accepted;

  /** {@code accepted} hears of every connection to the link port as it arrives. */
  public UnifiedServerNegotiator(SslContext grpcTls, BulkAcceptor bulk, SslContext bulkTls,
      java.util.function.Consumer<io.netty.channel.Channel> accepted) {
    this.tls = InternalProtocolNegotiators.serverTls(grpcTls);
    this.bulk = bulk;
    this.bulkTls = bulkTls;
    this.accepted = accepted;
  }

  @Override
  public AsciiString scheme() {
    return tls.scheme();
  }

  @Override
  public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
    return new PortUnificationHandler(tls.newHandler(grpcHandler), bulk, bulkTls, accepted);
  }

  @Override
  public void close() {
    tls.close();
  }
}
