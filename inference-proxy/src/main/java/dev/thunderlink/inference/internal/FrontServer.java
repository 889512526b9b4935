package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.proto.inference.Priority;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP fronts on one port: Ollama's, OpenAI's and Anthropic's APIs, translated to the gRPC
 * inference service through an {@link InferenceClient}. Netty's HTTP codec; requests to the
 * translated paths are read whole (up to a limit), answers are streamed as they come. Every
 * other path is relayed as plain HTTP to the host's upstream by {@link FrontForwarder},
 * streaming both ways.
 *
 * <p>Threading: one small event loop group serves connections; answers are written from gRPC's
 * threads through the channel. {@link #start} and {@link #close} from any thread.
 */
public final class FrontServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FrontServer.class);

  /** What the front needs to know; validated by the public configuration class. */
  public record Settings(String bindHost, int port, int maxBodyBytes, String bearerToken,
      boolean loopbackOnly, Priority priority, String name) {}

  private final Settings settings;
  private final EventLoopGroup group;
  private final Channel server;
  private final ChannelGroup connections;

  private FrontServer(Settings settings, EventLoopGroup group, Channel server, ChannelGroup connections) {
    this.settings = settings;
    this.group = group;
    this.server = server;
    this.connections = connections;
  }

  /**
   * Binds the port.
   *
   * @throws IllegalStateException "port 11434 on 127.0.0.1 is in use ..." and the like
   */
  public static FrontServer start(Settings s, InferenceClient client) {
    return start(s, client, true);
  }

  /** As {@link #start(Settings, InferenceClient)}; {@code announce} false logs nothing (the warm-up's front). */
  public static FrontServer start(Settings s, InferenceClient client, boolean announce) {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    OllamaFront ollama = new OllamaFront(client, s.priority());
    OpenAiFront openai = new OpenAiFront(client, s.priority());
    AnthropicFront anthropic = new AnthropicFront(client, s.priority());
    try {
      Channel ch = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              connections.add(ch);
              ch.pipeline().addLast(new HttpServerCodec(), new FrontForwarder(s, client),
                  new LimitedAggregator(s.maxBodyBytes()),
                  new Handler(s, ollama, openai, anthropic));
            }
          })
          .bind(s.bindHost(), s.port()).syncUninterruptibly().channel();
      if (announce) {
        log.info("{} front (Ollama, OpenAI, Anthropic APIs) listening on http://{}:{}", s.name(),
            s.bindHost(), ((InetSocketAddress) ch.localAddress()).getPort());
      }
      return new FrontServer(s, group, ch, connections);
    } catch (Exception e) { // Netty rethrows the checked BindException as is
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      Throwable c = e;
      while (c != null && !(c instanceof BindException)) {
        c = c.getCause();
      }
      if (c != null) {
        throw new IllegalStateException("port " + s.port() + " on " + s.bindHost()
            + " is in use (another Ollama or thunderlink?); stop it or choose another port with --api-port", e);
      }
      throw new IllegalStateException("cannot listen on " + s.bindHost() + ":" + s.port() + ": " + e.getMessage(), e);
    }
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  public Settings settings() {
    return settings;
  }

  /** Stops accepting, closes connections (their calls are cancelled), stops the loops. */
  @Override
  public void close() {
    server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(6, TimeUnit.SECONDS);
  }

  /** The paths the API translators answer; any other is relayed to the upstream as is. */
  private static final java.util.Set<String> TRANSLATED = java.util.Set.of("/", "/api/version",
      "/api/tags", "/api/ps", "/api/chat", "/api/generate", "/api/show", "/api/embed", "/api/pull",
      "/v1/models", "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/messages",
      "/v1/messages/count_tokens");

  static boolean handledLocally(String path) {
    return TRANSLATED.contains(path);
  }

  static String pathOf(String uri) {
    int q = uri.indexOf('?');
    return q >= 0 ? uri.substring(0, q) : uri;
  }

  /** 0 if the client may use the port, else the status refusing it (403 or 401), logged. */
  static int admit(Settings s, ChannelHandlerContext ctx, io.netty.handler.codec.http.HttpHeaders h, String path) {
    InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
    if (s.loopbackOnly() && !remote.getAddress().isLoopbackAddress()) {
      log.warn("refused {} from {}: only loopback clients are allowed", path, remote);
      return 403;
    }
    if (s.bearerToken() != null) {
      String auth = h.get(HttpHeaderNames.AUTHORIZATION, "");
      String key = auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).trim()
          : h.get("x-api-key", "");
      if (!MessageDigest.isEqual(key.getBytes(StandardCharsets.UTF_8),
          s.bearerToken().getBytes(StandardCharsets.UTF_8))) {
        log.info("refused {}: missing or wrong bearer token", path);
        return 401;
      }
    }
    return 0;
  }

  /** Answers a body over the limit in the API's own error format. */
  private static final class LimitedAggregator extends HttpObjectAggregator {
    private final int max;

    LimitedAggregator(int max) {
      super(max);
      this.max = max;
    }

    /**
     * A client that asks {@code Expect: 100-continue} before a body over the limit (curl does
     * for bodies over 1 MiB) gets the same answer as one that sends it, not Netty's bare 413
     * with an empty body, which a client shows as an error without a reason.
     */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, io.netty.channel.ChannelPipeline pipeline) {
      Object r = super.newContinueResponse(start, maxContentLength, pipeline);
      if (r instanceof FullHttpResponse refused && refused.status().equals(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE)) {
        refused.release();
        FullHttpResponse resp = tooLarge(start);
        HttpUtil.setKeepAlive(resp, HttpUtil.isKeepAlive(start)); // the client sends no body: the connection stays usable
        return resp;
      }
      return r;
    }

    private FullHttpResponse tooLarge(HttpMessage oversized) {
      String path = oversized instanceof HttpRequest r ? r.uri() : "/";
      log.info("request to {} refused: body over {} bytes", path, max);
      byte[] body = OllamaJson.bytes(ApiDialect.of(path).error(413,
          "request body too large (limit " + max + " bytes)"));
      FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
          HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, Unpooled.wrappedBuffer(body));
      resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=utf-8");
      HttpUtil.setContentLength(resp, body.length);
      return resp;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
      FullHttpResponse resp = tooLarge(oversized);
      // Keep a keep-alive connection open: the aggregator discards the rest of the body, and
      // a client still sending it would otherwise see a reset instead of this answer.
      boolean keep = !(oversized instanceof io.netty.handler.codec.http.FullHttpMessage)
          && HttpUtil.isKeepAlive(oversized);
      HttpUtil.setKeepAlive(resp, keep);
      var f = ctx.writeAndFlush(resp);
      if (!keep) {
        f.addListener(ChannelFutureListener.CLOSE);
      }
    }
  }

  /** Routes one connection's requests. Event loop. */
  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Settings s;
    private final OllamaFront ollama;
    private final OpenAiFront openai;
    private final AnthropicFront anthropic;
    private HttpExchange current;

    Handler(Settings s, OllamaFront ollama, OpenAiFront openai, AnthropicFront anthropic) {
      this.s = s;
      this.ollama = ollama;
      this.openai = openai;
      this.anthropic = anthropic;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      Hops.mark(Hops.FRONT_READ);
      String path = pathOf(req.uri());
      HttpExchange ex = new HttpExchange(ctx, HttpUtil.isKeepAlive(req), req.headers(), path);
      current = ex;
      ApiDialect dialect = ApiDialect.of(path);
      int refusal = admit(s, ctx, req.headers(), path);
      if (refusal != 0) {
        ex.json(refusal, dialect.error(refusal, refusal == 403
            ? "only clients on this machine may use this port" : "missing or wrong bearer token"));
        return;
      }
      String method = req.method().name();
      JsonNode body = OllamaJson.object();
      if (req.content().isReadable()) {
        try {
          body = OllamaJson.MAPPER.readTree(req.content().toString(StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
          log.info("bad request to {}: {}", path, OllamaJson.parseError(e));
          ex.json(400, dialect.error(400, "invalid JSON: " + OllamaJson.parseError(e)));
          return;
        }
        Hops.mark(Hops.JSON_PARSED);
        if (!(body instanceof ObjectNode)) {
          ex.json(400, dialect.error(400, "the request body must be a JSON object"));
          return;
        }
      }
      boolean handled;
      try {
        handled = switch (dialect) {
          case OLLAMA -> ollama.handle(ex, method, path, body);
          case OPENAI -> openai.handle(ex, method, path, body);
          case ANTHROPIC -> anthropic.handle(ex, method, path, body);
        };
      } catch (RuntimeException e) {
        log.warn("request to {} failed", path, e);
        if (!ex.isStarted()) {
          ex.json(500, dialect.error(500, "internal error: " + e.getMessage()));
        }
        return;
      }
      if (!handled) {
        ex.json(404, dialect.error(404, "no such endpoint: " + method + " " + path));
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      HttpExchange ex = current;
      if (ex != null) {
        ex.closed();
      }
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("front connection error: {}", cause.toString());
      ctx.close();
    }
  }
}
