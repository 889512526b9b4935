package dev.thunderlink.inference.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import io.netty.util.ByteProcessor;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

/**
 * POSTs to an upstream and streams the answer line by line, on Netty over pooled keep-alive
 * HTTP/1.1 connections with {@code TCP_NODELAY}. It replaces {@code java.net.http} on the token
 * path: that client hands every request and every response chunk between its selector thread
 * and an executor, which cost 1–2 ms before the first token on a busy machine; here the request
 * is written and the response read on one event loop, and lines go straight to the subscriber.
 *
 * <p>Backpressure: connections do not auto-read; the socket is read only while the subscriber
 * has demand and no decoded line is waiting, so a slow consumer slows the upstream through TCP
 * and at most one read's worth of lines is held.
 *
 * <p>Threading: one event loop per client owns every connection and exchange; the subscriber's
 * callbacks run on it and must not block. {@link Flow.Subscription} methods and
 * {@link Exchange#cancel} may be called from any thread.
 */
final class LineStreamingClient implements AutoCloseable {
  /** What the subscriber is told besides lines. */
  interface Listener extends Flow.Subscriber<String> {
    /** A non-2xx answer, with its whole body; no other callback follows. */
    void onStatus(int status, String body);
  }

  /** A request in progress. */
  interface Exchange {
    /** Aborts the request: its connection is closed, nothing more is delivered. Any thread. */
    void cancel();
  }

  private static final AttributeKey<Call> CALL = AttributeKey.valueOf("thunderlink.line-call");

  private final String name;
  private final URI base;
  private final String hostHeader;
  private final Duration headersTimeout;
  private final EventLoopGroup group;
  private final Bootstrap bootstrap;
  private final ConcurrentLinkedDeque<Channel> idle = new ConcurrentLinkedDeque<>();

  LineStreamingClient(String name, URI base, Duration connectTimeout, Duration headersTimeout) {
    this.name = name;
    this.base = base;
    int port = base.getPort() > 0 ? base.getPort() : 80;
    this.hostHeader = base.getHost() + (base.getPort() > 0 ? ":" + base.getPort() : "");
    this.headersTimeout = headersTimeout;
    this.group = new MultiThreadIoEventLoopGroup(1, r -> {
      Thread t = new Thread(r, "thunderlink-upstream-" + name);
      t.setDaemon(true);
      return t;
    }, NioIoHandler.newFactory());
    this.bootstrap = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .remoteAddress(base.getHost(), port)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpClientCodec(), new ResponseHandler());
          }
        });
  }

  /** POSTs {@code body} as JSON to {@code path}; the answer goes to {@code listener}. */
  Exchange post(String path, byte[] body, Listener listener) {
    Call call = new Call(base.resolve(path).getRawPath(), body, listener);
    group.next().execute(() -> call.send(true));
    return call;
  }

  /** One request: event loop only, except {@link #cancel} and the subscription's methods. */
  private final class Call implements Exchange, Flow.Subscription {
    final String path;
    final byte[] body;
    final Listener listener;
    Channel channel;
    boolean reused;
    boolean responded;
    boolean ok;
    boolean keepAlive;
    boolean ended;
    boolean done;
    long demand;
    boolean draining;
    int status;
    ScheduledFuture<?> headersTimer;
    final ArrayDeque<String> lines = new ArrayDeque<>();
    final ByteArrayOutputStream partial = new ByteArrayOutputStream();

    Call(String path, byte[] body, Listener listener) {
      this.path = path;
      this.body = body;
      this.listener = listener;
    }

    void send(boolean mayReuse) {
      Hops.mark(Hops.UPSTREAM_CALL);
      if (done) {
        return;
      }
      Channel ch = mayReuse ? pooled() : null;
      if (ch != null) {
        reused = true;
        attach(ch);
        return;
      }
      reused = false;
      ChannelFuture f = bootstrap.connect();
      f.addListener(x -> {
        if (!x.isSuccess()) {
          fail(UpstreamException.of(name, x.cause()));
        } else if (done) {
          f.channel().close();
        } else {
          attach(f.channel());
        }
      });
    }

    private Channel pooled() {
      Channel ch;
      while ((ch = idle.pollLast()) != null) {
        if (ch.isActive()) {
          return ch;
        }
      }
      return null;
    }

    private void attach(Channel ch) {
      channel = ch;
      ch.attr(CALL).set(this);
      FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path,
          Unpooled.wrappedBuffer(body));
      req.headers().set(HttpHeaderNames.HOST, hostHeader)
          .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
          .set(HttpHeaderNames.ACCEPT, "application/x-ndjson, text/event-stream, application/json")
          .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      HttpUtil.setContentLength(req, body.length);
      headersTimer = ch.eventLoop().schedule(() -> {
        if (!responded && !done) {
          fail(new UpstreamException(0, "upstream " + name + ": timed out"));
        }
      }, headersTimeout.toNanos(), TimeUnit.NANOSECONDS);
      ch.writeAndFlush(req).addListener(w -> {
        Hops.mark(Hops.UPSTREAM_WRITTEN);
        if (!w.isSuccess()) {
          connectionLost(w.cause());
        }
      });
      ch.read();
    }

    /** The connection broke; a reused one that never answered is retried once on a new one. */
    void connectionLost(Throwable cause) {
      if (done) {
        return;
      }
      if (reused && !responded) {
        detach(false);
        send(false);
        return;
      }
      fail(UpstreamException.of(name, cause != null ? cause
          : new java.io.IOException("the upstream closed the connection mid-stream")));
    }

    void onResponse(HttpResponse r) {
      responded = true;
      if (headersTimer != null) {
        headersTimer.cancel(false);
      }
      ok = r.status().code() / 100 == 2;
      keepAlive = HttpUtil.isKeepAlive(r);
      status = r.status().code();
      if (ok) {
        listener.onSubscribe(this);
      }
    }

    void onContent(HttpContent c) {
      ByteBuf b = c.content();
      if (!ok) {
        append(b, b.readerIndex(), b.readableBytes());
        if (c instanceof LastHttpContent) {
          done = true;
          detach(keepAlive);
          listener.onStatus(status, partial.toString(StandardCharsets.UTF_8));
        }
        return;
      }
      // One bulk scan per read: ByteBuf.getByte per byte goes through bounds and reference
      // checks each time (and, under paranoid leak detection, a leak record), which made the
      // replayed mixed trace 2-5x slower in real time (commit 0c2184e).
      int from = b.readerIndex();
      int end = b.writerIndex();
      while (from < end) {
        int lf = b.forEachByte(from, end - from, ByteProcessor.FIND_LF);
        if (lf < 0) {
          break;
        }
        Hops.mark(Hops.FIRST_LINE);
        lines.add(line(b, from, lf - from));
        from = lf + 1;
      }
      append(b, from, end - from);
      if (c instanceof LastHttpContent) {
        if (partial.size() > 0) {
          lines.add(takeLine());
        }
        ended = true;
        detach(keepAlive);
      }
      drain();
    }

    private void append(ByteBuf b, int from, int len) {
      if (len > 0) {
        byte[] bytes = new byte[len];
        b.getBytes(from, bytes);
        partial.write(bytes, 0, len);
      }
    }

    /** The line ending at {@code from + len} (exclusive), with what earlier reads left over. */
    private String line(ByteBuf b, int from, int len) {
      if (partial.size() == 0) {
        // the common case: the whole line arrived in this read; decode it without copies
        if (len > 0 && b.getByte(from + len - 1) == '\r') {
          len--;
        }
        return b.toString(from, len, StandardCharsets.UTF_8);
      }
      append(b, from, len);
      return takeLine();
    }

    private String takeLine() {
      String s = partial.toString(StandardCharsets.UTF_8);
      partial.reset();
      return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** Delivers waiting lines while there is demand; reads more, or completes. */
    void drain() {
      if (draining) {
        return; // a subscriber asking for more from inside onNext: the loop below goes on
      }
      draining = true;
      try {
        while (!done && demand > 0 && !lines.isEmpty()) {
          demand--;
          listener.onNext(lines.poll());
        }
      } finally {
        draining = false;
      }
      if (done) {
        return;
      }
      if (ended && lines.isEmpty()) {
        done = true;
        listener.onComplete();
      } else if (!ended && lines.isEmpty() && demand > 0 && channel != null) {
        channel.read();
      }
    }

    /** Returns the connection to the pool if the exchange ended cleanly, else closes it. */
    private void detach(boolean reuse) {
      Channel ch = channel;
      channel = null;
      if (ch == null) {
        return;
      }
      if (headersTimer != null) {
        headersTimer.cancel(false);
      }
      ch.attr(CALL).set(null);
      if (reuse && ch.isActive()) {
        idle.addLast(ch);
        ch.read(); // notice a close by the server while the connection waits
      } else {
        ch.close();
      }
    }

    void fail(UpstreamException e) {
      if (done) {
        return;
      }
      done = true;
      detach(false);
      listener.onError(e);
    }

    @Override
    public void request(long n) {
      execute(() -> {
        demand += n;
        drain();
      });
    }

    @Override
    public void cancel() {
      execute(() -> {
        if (!done) {
          done = true;
          detach(false);
        }
      });
    }

    private void execute(Runnable r) {
      Channel ch = channel;
      var loop = ch != null ? ch.eventLoop() : group.next();
      if (loop.inEventLoop()) {
        r.run();
      } else {
        loop.execute(r);
      }
    }
  }

  /** Routes a connection's events to its current exchange. Event loop. */
  private static final class ResponseHandler extends SimpleChannelInboundHandler<HttpObject> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      Call call = ctx.channel().attr(CALL).get();
      if (call == null) {
        ctx.close(); // an idle connection must not receive anything
        return;
      }
      if (msg instanceof HttpResponse r) {
        call.onResponse(r);
      }
      if (msg instanceof HttpContent c && !call.done) {
        call.onContent(c);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      Call call = ctx.channel().attr(CALL).get();
      if (call != null && !call.responded) {
        ctx.read(); // headers not complete yet
      } else if (call != null && call.ok) {
        call.drain();
      } else if (call != null) {
        ctx.read(); // an error body is read whole
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      Call call = ctx.channel().attr(CALL).get();
      if (call != null) {
        call.connectionLost(null);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Call call = ctx.channel().attr(CALL).get();
      ctx.close();
      if (call != null) {
        call.connectionLost(cause);
      }
    }
  }

  @Override
  public void close() {
    Channel ch;
    while ((ch = idle.poll()) != null) {
      ch.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
