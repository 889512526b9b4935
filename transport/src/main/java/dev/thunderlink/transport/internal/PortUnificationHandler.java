package dev.thunderlink.transport.internal;

import dev.thunderlink.transport.BulkAcceptor;
import io.grpc.netty.ProtocolNegotiationEvent;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First handler on every connection to the link port: looks at the first bytes and hands
 * the connection to gRPC (a TLS ClientHello), to the bulk plane (its preface), or refuses
 * it with a one-line reason (plain HTTP, h2c, anything else).
 *
 * <p>Runs on the channel's event loop. gRPC fires its {@link ProtocolNegotiationEvent} at
 * start, before any bytes arrive; this handler keeps it and replays it into gRPC's own TLS
 * negotiation handler once it knows the connection is gRPC.
 */
final class PortUnificationHandler extends ByteToMessageDecoder {
  private static final Logger log = LoggerFactory.getLogger(PortUnificationHandler.class);
  private static final long PREFACE_TIMEOUT_SECONDS = 10;
  private static final byte[] HTTP_REFUSAL =
      ("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
              + "This is a thunderlink link port: it speaks mutually-authenticated gRPC over TLS to "
              + "paired thunderlink daemons only. Use `thunderlink connect HOST` on the workstation.\n")
          .getBytes(StandardCharsets.US_ASCII);

  private final ChannelHandler grpcNegotiation;
  private final BulkAcceptor bulk;
  private final SslContext bulkTls;
  private final java.util.function.Consumer<io.netty.channel.Channel> accepted;
  private ProtocolNegotiationEvent pne;
  private ScheduledFuture<?> timeout;

  PortUnificationHandler(ChannelHandler grpcNegotiation, BulkAcceptor bulk, SslContext bulkTls,
      java.util.function.Consumer<io.netty.channel.Channel> accepted) {
    this.grpcNegotiation = grpcNegotiation;
    this.bulk = bulk;
    this.bulkTls = bulkTls;
    this.accepted = accepted;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    accepted.accept(ctx.channel());
    timeout =
        ctx.executor()
            .schedule(
                () -> {
                  log.warn("closed connection from {}: nothing sent within {} s", ctx.channel().remoteAddress(), PREFACE_TIMEOUT_SECONDS);
                  ctx.close();
                },
                PREFACE_TIMEOUT_SECONDS,
                TimeUnit.SECONDS);
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    if (timeout != null) {
      timeout.cancel(false);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof ProtocolNegotiationEvent event) {
      pne = event;
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (!in.isReadable()) {
      return;
    }
    byte first = in.getByte(in.readerIndex());
    if (first == 0x16) { // TLS handshake record: gRPC
      ctx.pipeline().addAfter(ctx.name(), "grpc-negotiation", grpcNegotiation);
      if (pne != null) {
        ctx.fireUserEventTriggered(pne);
      }
      ctx.pipeline().remove(this);
      return;
    }
    int n = Math.min(in.readableBytes(), 8);
    String head = in.toString(in.readerIndex(), n, StandardCharsets.ISO_8859_1);
    if (n < 8 && (BulkAcceptor.PREFACE_TLS.startsWith(head) || looksLikeHttpPrefix(head))) {
      return; // wait for more
    }
    if (head.equals(BulkAcceptor.PREFACE_TLS) || head.equals(BulkAcceptor.PREFACE_PLAIN)) {
      in.skipBytes(8);
      boolean encrypted = head.equals(BulkAcceptor.PREFACE_TLS);
      if (bulk == null) {
        refuse(ctx, "bulk plane is not enabled on this daemon", null);
        in.skipBytes(in.readableBytes());
        return;
      }
      detachGrpc(ctx);
      if (encrypted) {
        ctx.pipeline().addLast(UnifiedServerNegotiator.BULK_TLS_HANDLER, bulkTls.newHandler(ctx.alloc()));
      }
      bulk.accept(ctx.channel(), encrypted);
      ctx.pipeline().remove(this);
      return;
    }
    in.skipBytes(in.readableBytes());
    if (head.startsWith("PRI ")) {
      refuse(ctx, "plaintext HTTP/2 (h2c) refused: the link port requires TLS", null);
    } else if (looksLikeHttp(head)) {
      refuse(ctx, "plain HTTP refused: the link port speaks TLS gRPC to paired peers", HTTP_REFUSAL);
    } else {
      refuse(
          ctx,
          "not a thunderlink client (first bytes " + ByteBufUtil.hexDump(head.getBytes(StandardCharsets.ISO_8859_1)) + ")",
          null);
    }
  }

  /** The first four bytes of HTTP/1 requests, and of the h2c preface ("PRI * HTTP/2.0"). */
  private static final String[] HTTP_STARTS = {"GET ", "POST", "PUT ", "HEAD", "DELE", "OPTI", "PATC", "CONN", "TRAC", "PRI "};

  private static boolean looksLikeHttp(String head) {
    for (String m : HTTP_STARTS) {
      if (head.startsWith(m)) {
        return true;
      }
    }
    return false;
  }

  /** Fewer than 8 bytes so far that could still become an HTTP request line. */
  private static boolean looksLikeHttpPrefix(String head) {
    for (String m : HTTP_STARTS) {
      if (m.startsWith(head) || head.startsWith(m)) {
        return true;
      }
    }
    return false;
  }

  private void refuse(ChannelHandlerContext ctx, String reason, byte[] reply) {
    log.warn("refused connection from {}: {}", ctx.channel().remoteAddress(), reason);
    if (reply != null) {
      ctx.writeAndFlush(Unpooled.wrappedBuffer(reply)).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.close();
    }
  }

  /**
   * gRPC put a WriteBufferingAndExceptionHandler at the end of the pipeline that fails the
   * connection on any read it sees; a bulk connection never becomes gRPC, so take it out.
   */
  private static void detachGrpc(ChannelHandlerContext ctx) {
    for (Map.Entry<String, ChannelHandler> e : ctx.pipeline()) {
      if (e.getValue() != ctx.handler()
          && e.getValue().getClass().getName().equals("io.grpc.netty.WriteBufferingAndExceptionHandler")) {
        ctx.pipeline().remove(e.getKey());
        return;
      }
    }
  }
}
