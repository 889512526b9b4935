package dev.thunderlink.transport.emulator;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.net.InetSocketAddress;

/**
 * One client connection relayed to the target: two channels on one event loop and a {@link
 * DelayLine} per direction.
 *
 * <p>All methods except {@link #eventLoop()} run on that event loop; the emulator hands work to it
 * with {@code eventLoop().execute(...)}. If the link is cut when the client arrives, the connection
 * to the target is deferred until the link is restored, the way a SYN would be lost on a pulled
 * cable (the client's own {@code connect} still succeeds: the kernel accepts it).
 */
final class RelayConnection {

  private final LinkEmulator emulator;
  private final Channel client;
  private final DelayLine upstream;
  private Channel target;
  private DelayLine downstream;
  private boolean connecting;
  private boolean closed;
  private int directionsFinished;

  RelayConnection(LinkEmulator emulator, Channel client) {
    this.emulator = emulator;
    this.client = client;
    this.upstream = new DelayLine(emulator, this, client, true);
  }

  EventLoop eventLoop() {
    return client.eventLoop();
  }

  boolean isClosed() {
    return closed;
  }

  /** Called once the client channel is registered. */
  void start() {
    client.pipeline().addLast(new RelayHandler(upstream));
    if (!emulator.isCut()) {
      connectTarget();
    }
  }

  void pause() {
    if (closed) {
      return;
    }
    upstream.pause();
    if (downstream != null) {
      downstream.pause();
    }
  }

  void resume() {
    if (closed) {
      return;
    }
    if (target == null) {
      if (!emulator.isCut()) {
        connectTarget();
      }
      return;
    }
    upstream.resume();
    downstream.resume();
  }

  void directionFinished() {
    if (++directionsFinished == 2) {
      close();
    }
  }

  void close() {
    if (closed) {
      return;
    }
    closed = true;
    upstream.discard();
    if (downstream != null) {
      downstream.discard();
    }
    client.close();
    if (target != null) {
      target.close();
    }
    emulator.removed(this);
  }

  private void connectTarget() {
    if (connecting || closed) {
      return;
    }
    connecting = true;
    InetSocketAddress address = emulator.target();
    Bootstrap bootstrap = new Bootstrap()
        .group(client.eventLoop())
        .channel(emulator.transport().channelClass())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
        .handler(new ChannelInboundHandlerAdapter());
    bootstrap.connect(address).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess() || closed) {
        f.channel().close();
        close();
        return;
      }
      target = f.channel();
      downstream = new DelayLine(emulator, this, target, false);
      target.pipeline().addLast(new RelayHandler(downstream));
      upstream.start(target);
      downstream.start(client);
    });
  }

  /** Feeds one channel's events into its direction's delay line. Runs on the event loop. */
  private final class RelayHandler extends ChannelInboundHandlerAdapter {
    private final DelayLine line;

    RelayHandler(DelayLine line) {
      this.line = line;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      line.onRead((ByteBuf) msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        line.onInputShutdown();
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      line.onSourceClosed();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // A reset or I/O error on one side ends that side. What it sent before the reset is still
      // delivered, as on a real network (Linux hands a receiver the queued data before the
      // ECONNRESET): closing this channel fires channelInactive, which closes the other side
      // after the data queued for it. Writes to this side fail and close the relay.
      ctx.close();
    }
  }
}
