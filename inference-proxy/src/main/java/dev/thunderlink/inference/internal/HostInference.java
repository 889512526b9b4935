package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.inference.SchedulerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's view of its model servers: routes a model to its upstream, passes every
 * generation through the {@link ModelScheduler}, and merges listings. Speaks Ollama's JSON
 * shapes on both sides.
 *
 * <p>Thread-safe. Observer callbacks arrive on the upstream client's threads.
 */
public final class HostInference implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HostInference.class);

  /** Where a model lives. */
  public record Route(String model, Upstream upstream, long sizeBytes) {}

  /** A scheduled streaming call. Thread-safe. */
  public interface Call extends Upstream.Stream {
    /** Nanoseconds the request waited in the scheduler (0 until it was dispatched). */
    long queuedNanos();
  }

  private final List<Upstream> upstreams;
  private final ModelScheduler scheduler;
  private final HttpForwarder forwarder;
  private final Map<String, Route> routes = new ConcurrentHashMap<>();

  public HostInference(List<Upstream> upstreams, SchedulerConfig config) {
    this(upstreams, config, java.time.Duration.ofSeconds(2), java.time.Duration.ofMinutes(5));
  }

  /**
   * @param connectTimeout and {@code headersTimeout} apply to requests relayed as plain HTTP
   *     ({@link #forwarder})
   */
  public HostInference(List<Upstream> upstreams, SchedulerConfig config,
      java.time.Duration connectTimeout, java.time.Duration headersTimeout) {
    if (upstreams.isEmpty()) {
      throw new IllegalArgumentException("upstreams: [] (expected: at least one)");
    }
    this.upstreams = List.copyOf(upstreams);
    this.scheduler = new ModelScheduler(config);
    this.forwarder = new HttpForwarder(this, connectTimeout, headersTimeout);
  }

  public ModelScheduler scheduler() {
    return scheduler;
  }

  /** Relays the HTTP paths the fronts do not translate. */
  public HttpForwarder forwarder() {
    return forwarder;
  }

  public List<Upstream> upstreams() {
    return upstreams;
  }

  /** Learns the models of every upstream and adopts those already loaded. */
  public CompletableFuture<Void> start() {
    return refresh().thenCompose(v -> {
      List<CompletableFuture<Void>> all = new ArrayList<>();
      for (Upstream u : upstreams) {
        all.add(u.get("/api/ps").thenAccept(ps -> {
          for (JsonNode m : ps.path("models")) {
            String name = OllamaJson.normalizeModel(m.path("name").asText());
            Route r = routes.get(name);
            if (r != null && r.upstream() == u) {
              scheduler.adoptLoaded(name, u, m.path("size").asLong(r.sizeBytes()));
            }
          }
        }).exceptionally(t -> {
          log.warn("upstream {}: cannot list loaded models: {}", u.name(),
              UpstreamException.of(u.name(), t).getMessage());
          return null;
        }));
      }
      return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    });
  }

  /** Re-reads every upstream's /api/tags; the first upstream listing a model serves it. */
  public CompletableFuture<Void> refresh() {
    List<CompletableFuture<JsonNode>> fs = new ArrayList<>();
    java.util.concurrent.atomic.AtomicReference<UpstreamException> lastError = new java.util.concurrent.atomic.AtomicReference<>();
    for (Upstream u : upstreams) {
      fs.add(u.get("/api/tags").exceptionally(t -> {
        UpstreamException e = UpstreamException.of(u.name(), t);
        lastError.set(e);
        log.warn("upstream {}: cannot list models: {}", u.name(), e.getMessage());
        return null;
      }));
    }
    return CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).thenRun(() -> {
      if (fs.stream().allMatch(f -> f.join() == null)) {
        // Nobody answered: "not found" would mislead; say the upstream is unreachable.
        UpstreamException e = lastError.get();
        throw new UpstreamException(e.status() == 0 ? 503 : e.status(), e.getMessage(), e);
      }
      for (int i = upstreams.size() - 1; i >= 0; i--) {
        JsonNode tags = fs.get(i).join();
        if (tags == null) {
          continue;
        }
        for (JsonNode m : tags.path("models")) {
          String name = OllamaJson.normalizeModel(m.path("name").asText());
          routes.put(name, new Route(name, upstreams.get(i), m.path("size").asLong()));
        }
      }
    });
  }

  /** Finds a model's upstream, re-reading the listings once if it is unknown. */
  public CompletableFuture<Route> resolve(String model) {
    String name = OllamaJson.normalizeModel(model);
    if (name.isEmpty()) {
      return CompletableFuture.failedFuture(new UpstreamException(400, "model is required"));
    }
    Route r = routes.get(name);
    if (r != null) {
      return CompletableFuture.completedFuture(r);
    }
    return refresh().thenApply(v -> {
      Route again = routes.get(name);
      if (again == null) {
        throw new UpstreamException(404, "model \"" + model + "\" not found, try pulling it first");
      }
      return again;
    });
  }

  /**
   * Streams {@code /api/chat} or {@code /api/generate} through the scheduler. Nothing is
   * delivered before {@link Call#request}; {@link Call#cancel} drops the request from the
   * queue or aborts it upstream.
   */
  public Call stream(String path, ObjectNode body, ModelScheduler.RequestClass requestClass,
      Upstream.Observer observer) {
    ScheduledCall call = new ScheduledCall(observer, scheduler, requestClass, System.nanoTime());
    resolve(body.path("model").asText("")).whenComplete((route, err) -> {
      if (err != null) {
        call.fail(UpstreamException.of("routing", err));
        return;
      }
      body.put("model", route.model());
      synchronized (call) {
        if (call.cancelled) {
          return;
        }
        call.job = scheduler.submit(route.model(), route.upstream(), route.sizeBytes(), requestClass,
            body, new ModelScheduler.Work() {
              @Override
              public void start(ObjectNode pinned, ModelScheduler.Job job) {
                call.started(route.upstream(), path, pinned, job);
              }

              @Override
              public void rejected(String reason) {
                call.fail(new UpstreamException(503, reason));
              }
            });
      }
    });
    return call;
  }

  /** {@code /api/embed} through the scheduler (embedding models take memory too). */
  public CompletableFuture<JsonNode> embed(ObjectNode body, ModelScheduler.RequestClass requestClass) {
    CompletableFuture<JsonNode> out = new CompletableFuture<>();
    resolve(body.path("model").asText("")).whenComplete((route, err) -> {
      if (err != null) {
        out.completeExceptionally(UpstreamException.of("routing", err));
        return;
      }
      body.put("model", route.model());
      ModelScheduler.Job job = scheduler.submit(route.model(), route.upstream(), route.sizeBytes(),
          requestClass, body, new ModelScheduler.Work() {
            @Override
            public void start(ObjectNode pinned, ModelScheduler.Job job) {
              CompletableFuture<JsonNode> f = route.upstream().post("/api/embed", pinned);
              job.onCancel(() -> f.cancel(true));
              f.whenComplete((r, t) -> {
                job.release();
                if (t != null) {
                  out.completeExceptionally(UpstreamException.of(route.upstream().name(), t));
                } else {
                  out.complete(r);
                }
              });
            }

            @Override
            public void rejected(String reason) {
              out.completeExceptionally(new UpstreamException(503, reason));
            }
          });
      out.whenComplete((r, t) -> {
        if (out.isCancelled()) {
          job.cancel();
        }
      });
    });
    return out;
  }

  /** All upstreams' models, each with the upstream that serves it. */
  public CompletableFuture<ObjectNode> tags() {
    return merged("/api/tags");
  }

  /** All upstreams' loaded models. */
  public CompletableFuture<ObjectNode> ps() {
    return merged("/api/ps");
  }

  private CompletableFuture<ObjectNode> merged(String path) {
    List<CompletableFuture<JsonNode>> fs = new ArrayList<>();
    for (Upstream u : upstreams) {
      fs.add(u.get(path));
    }
    return CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).handle((v, t) -> {
      ObjectNode out = OllamaJson.object();
      ArrayNode arr = out.putArray("models");
      java.util.Set<String> seen = new java.util.HashSet<>();
      UpstreamException last = null;
      int ok = 0;
      for (int i = 0; i < fs.size(); i++) {
        try {
          JsonNode n = fs.get(i).join();
          ok++;
          for (JsonNode m : n.path("models")) {
            if (seen.add(m.path("name").asText())) {
              ObjectNode copy = m.deepCopy();
              copy.put("upstream", upstreams.get(i).name());
              arr.add(copy);
            }
          }
        } catch (RuntimeException e) {
          last = UpstreamException.of(upstreams.get(i).name(), e);
          log.warn("{} of {} failed: {}", path, upstreams.get(i).name(), last.getMessage());
        }
      }
      if (ok == 0) {
        throw last;
      }
      return out;
    });
  }

  public CompletableFuture<JsonNode> show(ObjectNode body) {
    String model = body.hasNonNull("model") ? body.get("model").asText() : body.path("name").asText("");
    return resolve(model).thenCompose(r -> {
      ObjectNode b = body.deepCopy();
      b.put("model", r.model());
      return r.upstream().post("/api/show", b);
    });
  }

  public CompletableFuture<JsonNode> version() {
    return upstreams.get(0).get("/api/version");
  }

  /** {@code /api/pull} on the upstream that has the model, else on the first. */
  public Upstream.Stream pull(ObjectNode body, Upstream.Observer observer) {
    String model = OllamaJson.normalizeModel(body.hasNonNull("model")
        ? body.get("model").asText() : body.path("name").asText(""));
    Route r = routes.get(model);
    Upstream u = r != null ? r.upstream() : upstreams.get(0);
    return u.stream("/api/pull", body, new Upstream.Observer() {
      @Override public void onObject(JsonNode object) { observer.onObject(object); }
      @Override public void onError(UpstreamException error) { observer.onError(error); }
      @Override public void onComplete() {
        refresh().whenComplete((v, t) -> observer.onComplete());
      }
    });
  }

  @Override
  public void close() {
    scheduler.close();
    upstreams.forEach(Upstream::close);
  }

  /** Demand and cancellation for a call that may still be queued. Guarded by itself. */
  private static final class ScheduledCall implements Call {
    private final Upstream.Observer observer;
    private final ModelScheduler scheduler;
    private final ModelScheduler.RequestClass requestClass;
    /** When the request reached the host (System.nanoTime), for time to first token. */
    private final long arrivedNanos;
    private final java.util.concurrent.atomic.AtomicBoolean firstSeen = new java.util.concurrent.atomic.AtomicBoolean();
    private ModelScheduler.Job job;
    private Upstream.Stream stream;
    private long demand;
    private boolean cancelled;
    private boolean terminated;

    ScheduledCall(Upstream.Observer observer, ModelScheduler scheduler, ModelScheduler.RequestClass requestClass,
        long arrivedNanos) {
      this.observer = Objects.requireNonNull(observer);
      this.scheduler = scheduler;
      this.requestClass = requestClass;
      this.arrivedNanos = arrivedNanos;
    }

    private void firstChunk(String model) {
      if (firstSeen.compareAndSet(false, true)) {
        try {
          scheduler.observer().firstToken(model, ModelScheduler.label(requestClass),
              java.time.Duration.ofNanos(System.nanoTime() - arrivedNanos));
        } catch (RuntimeException e) {
          log.warn("inference observer failed: {}", e.toString());
        }
      }
    }

    @Override
    public long queuedNanos() {
      ModelScheduler.Job j;
      synchronized (this) {
        j = job;
      }
      return j == null ? 0 : j.queuedNanos();
    }

    void started(Upstream upstream, String path, ObjectNode body, ModelScheduler.Job job) {
      synchronized (this) {
        if (cancelled) {
          job.release();
          return;
        }
      }
      Upstream.Stream s = upstream.stream(path, body, new Upstream.Observer() {
        @Override
        public void onObject(JsonNode object) {
          firstChunk(job.model);
          observer.onObject(object);
        }

        @Override
        public void onError(UpstreamException error) {
          job.release();
          fail(error);
        }

        @Override
        public void onComplete() {
          job.release();
          boolean first;
          synchronized (ScheduledCall.this) {
            first = !terminated;
            terminated = true;
          }
          if (first) {
            observer.onComplete();
          }
        }
      });
      job.onCancel(() -> {
        s.cancel();
        job.release();
      });
      long d;
      synchronized (this) {
        // Take the demand and publish the stream in one step, or a request() in between is lost.
        stream = s;
        d = cancelled ? 0 : demand;
        demand = 0;
      }
      if (d > 0) {
        s.request(d);
      }
    }

    void fail(UpstreamException e) {
      synchronized (this) {
        if (terminated) {
          return;
        }
        terminated = true;
      }
      observer.onError(e);
    }

    @Override
    public void request(long n) {
      Upstream.Stream s;
      synchronized (this) {
        if (stream == null) {
          demand += n;
          return;
        }
        s = stream;
      }
      s.request(n);
    }

    @Override
    public void cancel() {
      ModelScheduler.Job j;
      synchronized (this) {
        if (cancelled) {
          return;
        }
        cancelled = true;
        terminated = true;
        j = job;
      }
      if (j != null) {
        j.cancel();
      }
    }
  }
}
