package dev.thunderlink.transport;

import io.netty.channel.Channel;

/**
 * Takes over a connection to the link port that opened with the bulk-plane preface.
 *
 * <p>The link port carries two planes: gRPC (TLS with ALPN {@code h2}) and the bulk plane,
 * whose client first sends {@link #PREFACE_TLS} (TLS follows, same certificates and pinning
 * as gRPC) or {@link #PREFACE_PLAIN} (no encryption; only allowed on a verified
 * Thunderbolt path, authenticated by a ticket obtained over the control plane).
 *
 * <p>Called on the channel's event loop. The preface has been consumed; for
 * {@code encrypted} connections an {@code SslHandler} is already the last handler of the
 * pipeline and the peer's certificate must be checked once the handshake completes. The
 * implementation adds its handlers with {@code pipeline().addLast}.
 */
@FunctionalInterface
public interface BulkAcceptor {
  /** 8 bytes: bulk plane, TLS follows. */
  String PREFACE_TLS = "TLBULK1\n";
  /** 8 bytes: bulk plane in plaintext. */
  String PREFACE_PLAIN = "TLBULK0\n";

  void accept(Channel channel, boolean encrypted);
}
