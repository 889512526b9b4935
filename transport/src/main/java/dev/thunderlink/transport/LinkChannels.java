package dev.thunderlink.transport;

import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * Builds gRPC channels to a host on the daemon's own transport and event loops, with the
 * path's tuning profile. The authority is fixed: certificates are pinned, not matched to
 * host names.
 */
public final class LinkChannels {
  private LinkChannels() {}

  public static ManagedChannel newChannel(
      InetSocketAddress address,
      SslContext tls,
      TransportFactory transport,
      EventLoopGroup group,
      TuningProfile tuning,
      ClientInterceptor... interceptors) {
    NettyChannelBuilder b =
        NettyChannelBuilder.forAddress(address)
            .sslContext(tls)
            .overrideAuthority("thunderlink")
            .eventLoopGroup(group)
            .channelType(transport.channelClass())
            .flowControlWindow(tuning.flowControlWindowBytes())
            .maxInboundMessageSize(16 * 1024 * 1024)
            .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, Math.max(1000, tuning.probeDeadlineMillis() * 3));
    for (Map.Entry<ChannelOption<?>, Object> e : tuning.channelOptions().entrySet()) {
      @SuppressWarnings("unchecked")
      ChannelOption<Object> o = (ChannelOption<Object>) e.getKey();
      b.withOption(o, e.getValue());
    }
    b.intercept(interceptors);
    return b.build();
  }
}
