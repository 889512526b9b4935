package dev.thunderlink.inference.internal;

import com.google.protobuf.ByteString;
import dev.thunderlink.proto.inference.ForwardRequest;
import dev.thunderlink.proto.inference.ForwardRequestHead;
import dev.thunderlink.proto.inference.ForwardResponse;
import dev.thunderlink.proto.inference.ForwardResponseHead;
import dev.thunderlink.proto.inference.HttpHeader;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front's relay for every path the API translators do not own: the request (method, path,
 * query, end-to-end headers, body) goes to the host over the {@code Forward} call as it
 * arrives, and the upstream's answer comes back the same way. Sits before the aggregator, so
 * relayed bodies are never held whole; the body limit still applies (413). Flow control: the
 * socket stops being read while the link is not ready for more body, and the next response
 * chunk is asked of the link only once the previous one reached the socket. A client that
 * goes away cancels the call, which aborts the upstream request. An upstream that cannot be
 * reached is answered 502 with a JSON error in the path's API dialect.
 *
 * <p>One instance per connection; everything runs on the connection's event loop (gRPC
 * callbacks are handed to it).
 */
final class FrontForwarder extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(FrontForwarder.class);

  private final FrontServer.Settings settings;
  private final InferenceClient client;
  /** The request being relayed, until its last content has been read. */
  private Relay reading;
  /** The request whose answer is being written. */
  private Relay current;

  FrontForwarder(FrontServer.Settings settings, InferenceClient client) {
    this.settings = settings;
    this.client = client;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest req) {
      String path = FrontServer.pathOf(req.uri());
      if (req.decoderResult().isFailure() || FrontServer.handledLocally(path)) {
        ctx.fireChannelRead(msg);
        return;
      }
      try {
        reading = start(ctx, req, path);
        current = reading;
        if (msg instanceof HttpContent c) {
          body(ctx, c);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
      return;
    }
    if (msg instanceof HttpContent c && reading != null) {
      try {
        body(ctx, c);
      } finally {
        ReferenceCountUtil.release(msg);
      }
      return;
    }
    ctx.fireChannelRead(msg);
  }

  private Relay start(ChannelHandlerContext ctx, HttpRequest req, String path) {
    Relay r = new Relay(ctx, req, path);
    int refusal = FrontServer.admit(settings, ctx, req.headers(), path);
    if (refusal != 0) {
      r.error(refusal, refusal == 403 ? "only clients on this machine may use this port"
          : "missing or wrong bearer token");
      return r;
    }
    long declared = HttpUtil.isTransferEncodingChunked(req) ? -1 : HttpUtil.getContentLength(req, 0L);
    if (declared > settings.maxBodyBytes()) {
      log.info("request to {} refused: body over {} bytes", path, settings.maxBodyBytes());
      r.error(413, "request body too large (limit " + settings.maxBodyBytes() + " bytes)");
      return r;
    }
    if (HttpUtil.is100ContinueExpected(req)) {
      ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    ForwardRequestHead.Builder head = ForwardRequestHead.newBuilder().setMethod(req.method().name())
        .setPathAndQuery(req.uri()).setContentLength(declared);
    Set<String> connectionListed = new HashSet<>();
    for (String v : req.headers().getAll(HttpHeaderNames.CONNECTION)) {
      for (String t : v.split(",")) {
        connectionListed.add(t.trim().toLowerCase(Locale.ROOT));
      }
    }
    for (Map.Entry<String, String> h : req.headers()) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      if (HttpForwarder.hopByHop(name) || connectionListed.contains(name)
          || (settings.bearerToken() != null && (name.equals("authorization") || name.equals("x-api-key")))) {
        continue; // the front's own token is not the upstream's business
      }
      head.addHeaders(HttpHeader.newBuilder().setName(h.getKey()).setValue(h.getValue()));
    }
    log.debug("relaying {} {} to the host", req.method(), req.uri());
    client.forward(r); // beforeStart sets r.call
    r.call.onNext(ForwardRequest.newBuilder().setHead(head).build());
    return r;
  }

  private void body(ChannelHandlerContext ctx, HttpContent c) {
    Relay r = reading;
    boolean last = c instanceof LastHttpContent;
    if (!r.done && r.call != null) {
      int n = c.content().readableBytes();
      r.bodyBytes += n;
      if (r.bodyBytes > settings.maxBodyBytes()) {
        log.info("request to {} refused: body over {} bytes", r.path, settings.maxBodyBytes());
        r.call.cancel("request body too large", null);
        r.error(413, "request body too large (limit " + settings.maxBodyBytes() + " bytes)");
      } else {
        if (n > 0) {
          r.call.onNext(ForwardRequest.newBuilder().setBody(ByteString.copyFrom(c.content().nioBuffer())).build());
          r.pausedForLink = !r.call.isReady();
        }
        if (last) {
          r.call.onCompleted();
        }
      }
    }
    if (last) {
      r.requestDone = true;
      reading = null;
    }
    updateAutoRead(ctx);
  }

  /** Reads the socket unless the link is full or an answer is still being written. */
  private void updateAutoRead(ChannelHandlerContext ctx) {
    Relay r = current;
    boolean pause = r != null && ((r.pausedForLink && !r.done) || (r.requestDone && !r.done));
    ctx.channel().config().setAutoRead(!pause);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    Relay r = current;
    if (r != null && !r.done) {
      r.done = true;
      log.info("client left during relayed {} {}; cancelling the upstream request", r.method, r.path);
      if (r.call != null) {
        r.call.cancel("client disconnected", null);
      }
    }
    super.channelInactive(ctx);
  }

  /** One relayed request and its answer. Event loop, except the gRPC callbacks it hands over. */
  private final class Relay implements ClientResponseObserver<ForwardRequest, ForwardResponse> {
    final ChannelHandlerContext ctx;
    final EventLoop loop;
    final String path;
    final HttpMethod method;
    final boolean clientKeepAlive;
    final ApiDialect dialect;
    ClientCallStreamObserver<ForwardRequest> call;
    long bodyBytes;
    boolean requestDone;
    boolean pausedForLink;
    boolean headWritten;
    boolean done;

    Relay(ChannelHandlerContext ctx, HttpRequest req, String path) {
      this.ctx = ctx;
      this.loop = ctx.channel().eventLoop();
      this.path = path;
      this.method = req.method();
      this.clientKeepAlive = HttpUtil.isKeepAlive(req);
      this.dialect = ApiDialect.of(path);
    }

    /** Answers with an error in the path's dialect (the call, if any, is over). */
    void error(int status, String message) {
      done = true;
      byte[] body = OllamaJson.bytes(dialect.error(status, message));
      var resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
          Unpooled.wrappedBuffer(body));
      resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=utf-8");
      HttpUtil.setContentLength(resp, body.length);
      // A request still arriving is read to its end and dropped; the connection then closes.
      HttpUtil.setKeepAlive(resp, clientKeepAlive);
      var f = ctx.writeAndFlush(resp);
      if (!clientKeepAlive) {
        f.addListener(ChannelFutureListener.CLOSE);
      }
    }

    // ---- gRPC callbacks, handed to the event loop

    @Override
    public void beforeStart(ClientCallStreamObserver<ForwardRequest> requestStream) {
      call = requestStream;
      requestStream.disableAutoRequestWithInitial(1);
      requestStream.setOnReadyHandler(() -> onLoop(this::linkReady));
    }

    @Override
    public void onNext(ForwardResponse m) {
      onLoop(() -> response(m));
    }

    @Override
    public void onError(Throwable t) {
      Status s = Status.fromThrowable(t);
      onLoop(() -> failed(s));
    }

    @Override
    public void onCompleted() {
      onLoop(this::completed);
    }

    /** Hands a callback to the connection's loop; once the front is closed there is no one to tell. */
    private void onLoop(Runnable r) {
      try {
        loop.execute(r);
      } catch (java.util.concurrent.RejectedExecutionException frontClosed) {
        log.debug("relay callback after the front closed: dropped");
      }
    }

    // ---- on the event loop

    private void linkReady() {
      if (pausedForLink && call.isReady()) {
        pausedForLink = false;
        updateAutoRead(ctx);
      }
    }

    private void response(ForwardResponse m) {
      if (done) {
        return;
      }
      if (m.hasHead()) {
        ForwardResponseHead h = m.getHead();
        HttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(h.getStatus()));
        for (HttpHeader x : h.getHeadersList()) {
          if (!HttpForwarder.hopByHop(x.getName()) || x.getName().equalsIgnoreCase("content-length")) {
            resp.headers().add(x.getName(), x.getValue());
          }
        }
        boolean bodyless = method.equals(HttpMethod.HEAD) || h.getStatus() == 204 || h.getStatus() == 304
            || h.getStatus() / 100 == 1;
        if (!bodyless && !resp.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
          HttpUtil.setTransferEncodingChunked(resp, true);
        }
        HttpUtil.setKeepAlive(resp, clientKeepAlive);
        headWritten = true;
        ctx.writeAndFlush(resp);
        call.request(1);
        return;
      }
      ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(m.getBody().toByteArray())))
          .addListener(f -> {
            if (f.isSuccess() && !done) {
              call.request(1); // the socket took it: ask for the next piece
            }
          });
    }

    private void completed() {
      if (done) {
        return;
      }
      if (!headWritten) {
        failed(Status.INTERNAL.withDescription("the host ended the relay without an answer"));
        return;
      }
      done = true;
      var f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
      if (!clientKeepAlive) {
        f.addListener(ChannelFutureListener.CLOSE);
      } // else a request body still arriving is read to its end and dropped
      updateAutoRead(ctx);
    }

    private void failed(Status s) {
      if (done) {
        return;
      }
      if (headWritten) {
        done = true;
        log.info("relayed {} {} broke off mid-answer: {}", method, path, s);
        ctx.close(); // plain HTTP has no other way to say the body is incomplete
        return;
      }
      int status = switch (s.getCode()) {
        case INVALID_ARGUMENT -> 400;
        case UNIMPLEMENTED -> 501;
        case RESOURCE_EXHAUSTED -> 503; // the host's scheduler refused it (queue full, over budget)
        default -> 502;
      };
      String why = s.getDescription() != null ? s.getDescription() : s.getCode().toString();
      if (s.getCode() == Status.Code.UNIMPLEMENTED && s.getDescription() != null
          && s.getDescription().contains("Method not found")) {
        why = "the host does not relay plain HTTP (older thunderlink?)";
      }
      log.info("relaying {} {} failed: {}", method, path, why);
      error(status, status == 502 ? "upstream unavailable: " + why : why);
      updateAutoRead(ctx);
    }
  }
}
