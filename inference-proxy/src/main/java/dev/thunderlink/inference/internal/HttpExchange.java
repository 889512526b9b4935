package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP request being answered, whole or streamed. Writes may come from any thread (Netty
 * hands them to the channel's event loop); {@link #onClose} runs on the event loop when the
 * client goes away before the answer is complete.
 */
public final class HttpExchange {
  private final ChannelHandlerContext ctx;
  private final boolean keepAlive;
  final HttpHeaders requestHeaders;
  final String path;
  private volatile boolean started;
  private volatile boolean finished;
  private volatile Runnable onClose;

  HttpExchange(ChannelHandlerContext ctx, boolean keepAlive, HttpHeaders requestHeaders, String path) {
    this.ctx = ctx;
    this.keepAlive = keepAlive;
    this.requestHeaders = requestHeaders;
    this.path = path;
  }

  /** What to do if the client leaves first (cancel the call). */
  public void onClose(Runnable r) {
    onClose = r;
    if (!ctx.channel().isActive()) {
      closed();
    }
  }

  void closed() {
    Runnable r = onClose;
    onClose = null;
    if (r != null && !finished) {
      r.run();
    }
  }

  public boolean isStarted() {
    return started;
  }

  public boolean isOpen() {
    return ctx.channel().isActive();
  }

  public void json(int status, JsonNode body) {
    bytes(status, "application/json; charset=utf-8", OllamaJson.bytes(body));
  }

  public void text(int status, String text) {
    bytes(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
  }

  public void bytes(int status, String contentType, byte[] body) {
    finished = true;
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(body));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    HttpUtil.setContentLength(r, body.length);
    HttpUtil.setKeepAlive(r, keepAlive);
    ChannelFuture f = ctx.writeAndFlush(r);
    if (!keepAlive) {
      f.addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** Starts a streamed (chunked) 200 answer. */
  public void start(String contentType) {
    started = true;
    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
    HttpUtil.setTransferEncodingChunked(r, true);
    HttpUtil.setKeepAlive(r, keepAlive);
    ctx.write(r);
  }

  /** Writes and flushes one piece; the future completes when the socket took it. */
  public ChannelFuture write(String text) {
    Hops.mark(Hops.FRONT_WRITES);
    return ctx.writeAndFlush(new DefaultHttpContent(
        Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8))));
  }

  public void end() {
    finished = true;
    ChannelFuture f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    if (!keepAlive) {
      f.addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** Writes, then runs {@code next} once the piece is on its way (backpressure). */
  public void write(String text, Runnable next) {
    write(text).addListener(f -> {
      if (f.isSuccess()) {
        next.run();
      }
    });
  }
}
