package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.inference.SimulatedModel;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP side of the simulator: Ollama's routes over Netty's HTTP codec. One instance per
 * connection; runs on the simulator's single event loop, like {@link SimulatorEngine}.
 */
public final class SimulatorHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger log = LoggerFactory.getLogger(SimulatorHttpHandler.class);
  /** Sent on every response so that no one mistakes the simulator for a model server. */
  public static final String SIMULATOR_HEADER = "X-Thunderlink-Simulator";
  public static final String SIMULATOR_NAME = "thunderlink-ollama-simulator";
  public static final String OLLAMA_VERSION = "0.12.6";

  private final SimulatorEngine engine;
  private ChannelHandlerContext ctx;
  private boolean keepAlive;

  public SimulatorHttpHandler(SimulatorEngine engine) {
    this.engine = engine;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    Hops.mark(Hops.SIM_READ);
    keepAlive = HttpUtil.isKeepAlive(req);
    String path = req.uri();
    int q = path.indexOf('?');
    if (q >= 0) {
      path = path.substring(0, q);
    }
    HttpMethod m = req.method();
    String body = req.content().toString(StandardCharsets.UTF_8);
    try {
      route(m, path, body);
    } catch (BadRequest e) {
      exchange().sendJson(e.status, OllamaJson.error(e.getMessage()));
    }
  }

  private void route(HttpMethod m, String path, String body) {
    boolean get = m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD);
    boolean post = m.equals(HttpMethod.POST);
    switch (path) {
      case "/" -> {
        if (!get) throw new BadRequest(405, "method not allowed");
        sendText(200, "Ollama is running (thunderlink simulator)");
      }
      case "/api/version" -> {
        if (!get) throw new BadRequest(405, "method not allowed");
        ObjectNode v = OllamaJson.object();
        v.put("version", OLLAMA_VERSION);
        v.put("simulator", SIMULATOR_NAME);
        exchange().sendJson(200, v);
      }
      case "/api/tags" -> {
        if (!get) throw new BadRequest(405, "method not allowed");
        exchange().sendJson(200, engine.tags());
      }
      case "/api/ps" -> {
        if (!get) throw new BadRequest(405, "method not allowed");
        exchange().sendJson(200, engine.ps());
      }
      case "/simulator/counters" -> {
        if (!get) throw new BadRequest(405, "method not allowed");
        exchange().sendJson(200, OllamaJson.MAPPER.valueToTree(engine.counters()));
      }
      case "/api/show" -> {
        if (!post) throw new BadRequest(405, "method not allowed");
        ObjectNode b = parse(body);
        String name = b.hasNonNull("model") ? b.get("model").asText() : b.path("name").asText("");
        exchange().sendJson(200, engine.show(model(name)));
      }
      case "/api/pull" -> {
        if (!post) throw new BadRequest(405, "method not allowed");
        ObjectNode b = parse(body);
        String name = b.hasNonNull("model") ? b.get("model").asText() : b.path("name").asText("");
        SimulatedModel sm = engine.find(name);
        if (sm == null) {
          throw new BadRequest(500, "pull model manifest: file does not exist");
        }
        engine.pull(sm, exchange(), b.path("stream").asBoolean(true));
      }
      case "/api/chat", "/api/generate", "/api/embed" -> {
        if (!post) throw new BadRequest(405, "method not allowed");
        generation(path, parse(body));
      }
      default -> sendText(404, "404 page not found");
    }
  }

  private void generation(String path, ObjectNode b) {
    SimulatedModel sm = model(b.path("model").asText(""));
    Duration keep;
    try {
      keep = OllamaJson.keepAlive(b.get("keep_alive"), engine.config().defaultKeepAlive());
    } catch (IllegalArgumentException e) {
      throw new BadRequest(400, e.getMessage());
    }
    SimulatorEngine.Kind kind = switch (path) {
      case "/api/chat" -> SimulatorEngine.Kind.CHAT;
      case "/api/generate" -> SimulatorEngine.Kind.GENERATE;
      default -> SimulatorEngine.Kind.EMBED;
    };
    if (kind == SimulatorEngine.Kind.CHAT && b.has("messages") && !b.get("messages").isArray()) {
      throw new BadRequest(400, "json: cannot unmarshal " + b.get("messages").getNodeType()
          .toString().toLowerCase(java.util.Locale.ROOT) + " into Go struct field ChatRequest.messages");
    }
    if (kind == SimulatorEngine.Kind.EMBED) {
      JsonNode in = b.path("input");
      if (in.isMissingNode() || in.isNull()) {
        throw new BadRequest(400, "invalid input type");
      }
    }
    boolean empty = kind == SimulatorEngine.Kind.GENERATE
        ? b.path("prompt").asText("").isEmpty()
        : kind == SimulatorEngine.Kind.CHAT && b.path("messages").size() == 0;
    if (empty && keep != null && keep.isZero()) {
      engine.unloadRequest(sm, exchange(), kind);
      return;
    }
    boolean stream = kind != SimulatorEngine.Kind.EMBED && b.path("stream").asBoolean(true);
    engine.submit(kind, sm, b, exchange(), stream, keep);
  }

  private SimulatedModel model(String name) {
    if (name.isBlank()) {
      throw new BadRequest(400, "model is required");
    }
    SimulatedModel sm = engine.find(name);
    if (sm == null) {
      throw new BadRequest(404, "model \"" + name + "\" not found, try pulling it first");
    }
    return sm;
  }

  private static ObjectNode parse(String body) {
    if (body.isBlank()) {
      throw new BadRequest(400, "unexpected EOF");
    }
    JsonNode n;
    try {
      n = OllamaJson.MAPPER.readTree(body);
    } catch (java.io.IOException e) {
      throw new BadRequest(400, "invalid JSON: " + OllamaJson.parseError(e));
    }
    if (!(n instanceof ObjectNode o)) {
      throw new BadRequest(400, "json: cannot unmarshal " + n.getNodeType().toString()
          .toLowerCase(java.util.Locale.ROOT) + " into Go value of type api.Request");
    }
    return o;
  }

  private void sendText(int status, String text) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.valueOf(status), Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    finishFull(r);
  }

  private void finishFull(FullHttpResponse r) {
    r.headers().set(SIMULATOR_HEADER, SIMULATOR_NAME + "/" + OLLAMA_VERSION);
    HttpUtil.setContentLength(r, r.content().readableBytes());
    HttpUtil.setKeepAlive(r, keepAlive);
    var f = ctx.writeAndFlush(r);
    if (!keepAlive) {
      f.addListener(ChannelFutureListener.CLOSE);
    }
  }

  private SimulatorEngine.Exchange exchange() {
    return new SimulatorEngine.Exchange() {
      @Override public Object connection() { return ctx.channel(); }
      @Override public boolean isOpen() { return ctx.channel().isActive(); }
      @Override public boolean isWritable() { return ctx.channel().isWritable(); }

      @Override
      public void sendJson(int status, JsonNode body) {
        if (!isOpen()) {
          return;
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(OllamaJson.bytes(body)));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON + "; charset=utf-8");
        finishFull(r);
      }

      @Override
      public void startStream() {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/x-ndjson");
        r.headers().set(SIMULATOR_HEADER, SIMULATOR_NAME + "/" + OLLAMA_VERSION);
        HttpUtil.setTransferEncodingChunked(r, true);
        HttpUtil.setKeepAlive(r, keepAlive);
        ctx.write(r);
      }

      @Override
      public void streamLine(JsonNode line) {
        // Stamped before the write: once the line is out, the reader may already be tracing its
        // next request, which a late stamp would land in.
        Hops.mark(Hops.SIM_FIRST_TOKEN);
        ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(OllamaJson.line(line))));
      }

      @Override
      public void streamLineLater(JsonNode line) {
        Hops.mark(Hops.SIM_FIRST_TOKEN);
        ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(OllamaJson.line(line))));
      }

      @Override
      public void flush() {
        ctx.flush();
      }

      @Override
      public void endStream() {
        var f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        if (!keepAlive) {
          f.addListener(ChannelFutureListener.CLOSE);
        }
      }
    };
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    engine.connectionClosed(ctx.channel());
    super.channelInactive(ctx);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isWritable()) {
      engine.writable(ctx.channel());
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("simulator: connection error: {}", cause.toString());
    ctx.close();
  }

  private static final class BadRequest extends RuntimeException {
    final int status;

    BadRequest(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }
}
