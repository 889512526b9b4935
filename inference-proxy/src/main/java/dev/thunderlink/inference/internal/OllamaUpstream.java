package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An Ollama server spoken to with its native API: listings and single answers through
 * {@code java.net.http}; token streams through {@link LineStreamingClient} (Netty), read line by
 * line with demand: {@link Stream#request} pulls lines from the socket, so a slow consumer slows
 * the upstream (TCP backpressure) and nothing is buffered beyond one socket read. Cancelling
 * closes the connection, which Ollama (and the simulator) see at once.
 *
 * <p>Thread-safe. Stream observer callbacks come from the line client's event loop and must not
 * block; other futures complete on the HTTP client's executor.
 */
public final class OllamaUpstream implements Upstream {
  private static final Logger log = LoggerFactory.getLogger(OllamaUpstream.class);

  private final String name;
  private final URI base;
  private final int parallel;
  private final Duration headersTimeout;
  private final Duration idleTimeout;
  private final HttpClient http;
  /** Token streams: Netty, one event loop, no executor hops (see LineStreamingClient). */
  private final LineStreamingClient lines;
  private final ScheduledExecutorService timer;

  public OllamaUpstream(String name, URI base, int parallel, Duration connectTimeout,
      Duration headersTimeout, Duration idleTimeout, ScheduledExecutorService timer) {
    this.name = Objects.requireNonNull(name);
    this.base = Objects.requireNonNull(base);
    this.parallel = parallel;
    this.headersTimeout = headersTimeout;
    this.idleTimeout = idleTimeout;
    this.timer = timer;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(connectTimeout)
        .build();
    this.lines = new LineStreamingClient(name, base, connectTimeout, headersTimeout);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int parallel() {
    return parallel;
  }

  public URI base() {
    return base;
  }

  @Override
  public java.util.Optional<URI> baseUri() {
    return java.util.Optional.of(base);
  }

  @Override
  public CompletableFuture<JsonNode> get(String path) {
    HttpRequest req = HttpRequest.newBuilder(base.resolve(path)).timeout(headersTimeout).GET().build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
        .handle((r, t) -> json(r, t));
  }

  @Override
  public CompletableFuture<JsonNode> post(String path, JsonNode body) {
    HttpRequest req = HttpRequest.newBuilder(base.resolve(path)).timeout(headersTimeout)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(OllamaJson.bytes(body))).build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
        .handle((r, t) -> json(r, t));
  }

  private JsonNode json(HttpResponse<String> r, Throwable t) {
    if (t != null) {
      throw UpstreamException.of(name, t);
    }
    if (r.statusCode() / 100 != 2) {
      throw new UpstreamException(r.statusCode(), errorMessage(r.body(), r.statusCode()));
    }
    try {
      return OllamaJson.MAPPER.readTree(r.body());
    } catch (java.io.IOException e) {
      throw new UpstreamException(502, "upstream " + name + " sent invalid JSON: " + OllamaJson.parseError(e));
    }
  }

  private String errorMessage(String body, int status) {
    try {
      JsonNode n = OllamaJson.MAPPER.readTree(body);
      if (n != null && n.hasNonNull("error")) {
        return n.get("error").asText();
      }
    } catch (java.io.IOException notJson) {
      // fall through
    }
    String b = body == null ? "" : body.strip();
    return "upstream " + name + " answered HTTP " + status + (b.isEmpty() ? "" : ": " + b.lines().findFirst().orElse(""));
  }

  @Override
  public CompletableFuture<Void> unload(String model) {
    ObjectNode body = OllamaJson.object();
    body.put("model", model);
    body.put("keep_alive", 0);
    return post("/api/generate", body).thenApply(n -> null);
  }

  @Override
  public Stream stream(String path, ObjectNode body, Observer observer) {
    body.put("stream", true);
    return streamLines(path, body, this::ndjson, observer);
  }

  /** Ollama's NDJSON: one object per line; an {@code error} line fails the stream. */
  private java.util.List<JsonNode> ndjson(String line) {
    if (line.isBlank()) {
      return java.util.List.of();
    }
    JsonNode n;
    try {
      n = OllamaJson.MAPPER.readTree(line);
    } catch (java.io.IOException e) {
      throw new UpstreamException(502, "upstream " + name + " sent a bad line: " + OllamaJson.parseError(e));
    }
    if (n.hasNonNull("error") && !n.has("done")) {
      throw new UpstreamException(500, n.get("error").asText());
    }
    return java.util.List.of(n);
  }

  /**
   * POSTs {@code body} to {@code path} and streams the response line by line through
   * {@code translate}, which turns a line into zero or more objects (or throws an
   * {@link UpstreamException}). Lines that yield nothing do not consume demand.
   */
  Stream streamLines(String path, JsonNode body,
      java.util.function.Function<String, java.util.List<JsonNode>> translate, Observer observer) {
    LineStream s = new LineStream(observer, translate);
    s.exchange = lines.post(path, OllamaJson.bytes(body), s);
    return s;
  }

  /** One streamed response: lines to objects, demand passed to the socket. */
  private final class LineStream implements Stream, LineStreamingClient.Listener {
    private final Observer observer;
    private final AtomicBoolean terminated = new AtomicBoolean();
    private volatile LineStreamingClient.Exchange exchange;
    // guarded by this
    private Flow.Subscription subscription;
    private long pendingDemand;
    private boolean cancelled;
    private ScheduledFuture<?> idle;
    /** Lines asked for and not yet delivered: the idle timer only counts while this is > 0. */
    private final java.util.concurrent.atomic.AtomicLong outstanding = new java.util.concurrent.atomic.AtomicLong();
    /**
     * When the upstream last sent a line, or the consumer last asked after asking for nothing
     * (System.nanoTime). The idle timer compares against it instead of being rescheduled per
     * line: a cancel and a schedule per token cost the line thread a lock and left one
     * cancelled task per token in the shared timer's queue until its delay ran out.
     */
    private volatile long lastActivityNanos = System.nanoTime();

    private final java.util.function.Function<String, java.util.List<JsonNode>> translate;

    LineStream(Observer observer, java.util.function.Function<String, java.util.List<JsonNode>> translate) {
      this.observer = observer;
      this.translate = translate;
    }

    @Override
    public void request(long n) {
      if (outstanding.getAndAdd(n) <= 0) {
        lastActivityNanos = System.nanoTime(); // the upstream's silence counts from now
      }
      Flow.Subscription sub;
      synchronized (this) {
        if (subscription == null) {
          pendingDemand += n;
          return;
        }
        sub = subscription;
      }
      sub.request(n);
    }

    @Override
    public void cancel() {
      Flow.Subscription sub;
      synchronized (this) {
        cancelled = true;
        sub = subscription;
        if (idle != null) {
          idle.cancel(false);
        }
      }
      if (sub != null) {
        sub.cancel();
      }
      LineStreamingClient.Exchange x = exchange;
      if (x != null) {
        x.cancel();
      }
      terminated.set(true);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      long demand;
      synchronized (this) {
        if (cancelled) {
          s.cancel();
          return;
        }
        subscription = s;
        demand = pendingDemand;
        pendingDemand = 0;
      }
      armIdle(idleTimeout.toNanos());
      if (demand > 0) {
        s.request(demand);
      }
    }

    @Override
    public void onNext(String line) {
      outstanding.decrementAndGet();
      lastActivityNanos = System.nanoTime();
      if (terminated.get()) {
        return;
      }
      java.util.List<JsonNode> objects;
      try {
        objects = translate.apply(line);
      } catch (UpstreamException e) {
        fail(e);
        cancel();
        return;
      }
      if (objects.isEmpty()) {
        request(1); // nothing for the consumer: the demand is still open
        return;
      }
      for (JsonNode n : objects) {
        observer.onObject(n);
      }
    }

    @Override
    public void onError(Throwable t) {
      fail(UpstreamException.of(name, t));
    }

    @Override
    public void onStatus(int status, String body) {
      fail(new UpstreamException(status, errorMessage(body, status)));
    }

    @Override
    public void onComplete() {
      disarm();
      if (terminated.compareAndSet(false, true)) {
        observer.onComplete();
      }
    }

    void fail(UpstreamException e) {
      disarm();
      if (terminated.compareAndSet(false, true)) {
        log.debug("upstream {} stream failed: {}", name, e.getMessage());
        observer.onError(e);
      }
    }

    /** Arms the one idle check of this stream {@code delayNanos} from now. */
    private void armIdle(long delayNanos) {
      synchronized (this) {
        if (cancelled || terminated.get()) {
          return;
        }
        idle = timer.schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
      }
    }

    /**
     * Timer thread: fails the stream if the upstream has owed a line for idleTimeout, else
     * arms the next check for when that could first be true. Every path that does not fail
     * re-arms, or a stream that once was busy at the check would never time out.
     */
    private void checkIdle() {
      long limit = idleTimeout.toNanos();
      long quiet = System.nanoTime() - lastActivityNanos;
      if (outstanding.get() <= 0) {
        armIdle(limit); // the consumer is slow, not the upstream
      } else if (quiet < limit) {
        armIdle(limit - quiet);
      } else {
        fail(new UpstreamException(504, "upstream " + name + " sent nothing for "
            + idleTimeout.toMillis() + " ms"));
        cancel();
      }
    }

    private synchronized void disarm() {
      if (idle != null) {
        idle.cancel(false);
      }
    }
  }

  @Override
  public void close() {
    lines.close();
    // HttpClient has no close() before JDK 21; its connections idle out.
  }
}
