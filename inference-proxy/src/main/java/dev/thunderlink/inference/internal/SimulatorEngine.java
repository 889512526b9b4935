package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.inference.SimulatedModel;
import dev.thunderlink.inference.SimulatorConfig;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model server the simulator pretends to be: runners (loaded models), Ollama's pending
 * queue, memory accounting and eviction, parallel slots and token timing.
 *
 * <p>Threading: every method except {@link #counters()} runs on the one {@link EventLoop}
 * given at construction; the HTTP handlers of all connections live on the same loop, so the
 * state needs no locks. Counters are atomics, readable from any thread.
 */
/*
 * Design. Ollama's scheduler (server/sched.go) takes pending requests strictly in arrival
 * order: the head waits until it can be placed, blocking everyone behind it. A request is
 * placed on a runner for its model if one is loaded with the same load-time options;
 * otherwise a runner must be loaded, which needs memory: idle runners are evicted (the one
 * idle longest first) until the model fits; if no runner is idle the head waits. A runner
 * whose options differ from the head's is drained and reloaded. A runner serves numParallel
 * requests at once, more wait on the runner. After its last request a runner stays for
 * keep_alive (default 5 minutes; 0 unloads at once). The simulator does the same, with time
 * scaled by timeScale: it really waits simulated/timeScale and reports simulated durations.
 */
public final class SimulatorEngine {
  private static final Logger LOG = LoggerFactory.getLogger(SimulatorEngine.class);

  /** {@link #LOG}, or nothing for the start-up warm-up's private simulator ({@link #silence}). */
  private volatile Logger log = LOG;

  /** Logs nothing from now on (the warm-up's private model server). */
  public void silence() {
    log = org.slf4j.helpers.NOPLogger.NOP_LOGGER;
  }

  /** Where a request's answer goes; implemented by the HTTP handler. Event loop only. */
  public interface Exchange {
    /** Identifies the connection; one request per connection at a time. */
    Object connection();
    boolean isOpen();
    boolean isWritable();
    void sendJson(int status, JsonNode body);
    void startStream();
    void streamLine(JsonNode line);

    /** Writes a line without flushing; {@link #flush} sends what was written. */
    void streamLineLater(JsonNode line);

    void flush();
    void endStream();
  }

  /** Snapshot of the counters; any thread. */
  public record Counters(long requests, long loads, long unloads, long evictions, long reloads,
      long completed, long cancelled, long maxActive, long writePauses, Map<String, Long> loadsByModel) {}

  enum Kind { CHAT, GENERATE, EMBED }

  /** One request inside the simulator. Event loop only. */
  final class Job {
    final Kind kind;
    final SimulatedModel model;
    final ObjectNode body;
    final Map<String, String> loadOptions;
    final Exchange exchange;
    final boolean stream;
    final Duration keepAlive; // null: forever
    final long arrivedNanos = System.nanoTime();
    Runner runner;
    long readyAtNanos;
    long loadDurationSim;
    boolean started;
    boolean finished;
    ScheduledFuture<?> timer;
    // generation state
    int promptTokens;
    int evalTarget;
    int emitted;
    String doneReason = "stop";
    boolean pausedForWrite;
    final StringBuilder full = new StringBuilder();
    ArrayNode toolCalls;
    long promptEvalSim;
    long evalSim;
    /** Real time at which prompt evaluation ends and tokens start. */
    long genStartNanos;

    Job(Kind kind, SimulatedModel model, ObjectNode body, Map<String, String> loadOptions,
        Exchange exchange, boolean stream, Duration keepAlive) {
      this.kind = kind;
      this.model = model;
      this.body = body;
      this.loadOptions = loadOptions;
      this.exchange = exchange;
      this.stream = stream;
      this.keepAlive = keepAlive;
    }
  }

  /** A loaded (or loading) model. Event loop only. */
  final class Runner {
    final SimulatedModel model;
    final Map<String, String> loadOptions;
    boolean loading = true;
    long loadStartNanos = System.nanoTime();
    long loadEndNanos;
    int active;
    final Deque<Job> waiting = new ArrayDeque<>();
    long lastUsedNanos = System.nanoTime();
    Duration keepAlive;
    ScheduledFuture<?> expiry;
    boolean draining;
    Instant expiresAt = Instant.now();

    Runner(SimulatedModel model, Map<String, String> loadOptions, Duration keepAlive) {
      this.model = model;
      this.loadOptions = loadOptions;
      this.keepAlive = keepAlive;
    }

    boolean idle() {
      return !loading && active == 0 && waiting.isEmpty();
    }
  }

  private static final String[] WORDS = ("This is a simulated reply from the thunderlink Ollama "
      + "simulator, not a real model. It streams tokens at a configured rate so that clients, "
      + "schedulers and benchmarks see realistic timing.").split(" ");

  private final SimulatorConfig config;
  private final EventLoop loop;
  private final Map<String, Runner> runners = new LinkedHashMap<>();
  private final Deque<Job> pending = new ArrayDeque<>();

  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong loads = new AtomicLong();
  private final AtomicLong unloads = new AtomicLong();
  private final AtomicLong evictions = new AtomicLong();
  private final AtomicLong reloads = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong cancelled = new AtomicLong();
  private final AtomicLong maxActive = new AtomicLong();
  private final AtomicLong writePauses = new AtomicLong();
  private final Map<String, LongAdder> loadsByModel = new ConcurrentHashMap<>();
  private int activeNow;
  private final Map<Object, Job> byConnection = new java.util.HashMap<>();

  public SimulatorEngine(SimulatorConfig config, EventLoop loop) {
    this.config = config;
    this.loop = loop;
  }

  public SimulatorConfig config() {
    return config;
  }

  public Counters counters() {
    Map<String, Long> byModel = new TreeMap<>();
    loadsByModel.forEach((k, v) -> byModel.put(k, v.sum()));
    return new Counters(requests.get(), loads.get(), unloads.get(), evictions.get(),
        reloads.get(), completed.get(), cancelled.get(), maxActive.get(), writePauses.get(), byModel);
  }

  public SimulatedModel find(String name) {
    return config.models().get(OllamaJson.normalizeModel(name));
  }

  /** Real nanoseconds to wait for a simulated duration. */
  private long real(long simNanos) {
    return Math.max(0, (long) (simNanos / config.timeScale()));
  }

  private long sim(long realNanos) {
    return (long) (realNanos * config.timeScale());
  }

  // ---------------------------------------------------------------- requests

  /** Accepts a chat, generate or embed request whose body was validated by the handler. */
  void submit(Kind kind, SimulatedModel model, ObjectNode body, Exchange exchange, boolean stream,
      Duration keepAlive) {
    assert loop.inEventLoop();
    requests.incrementAndGet();
    if (model.sizeBytes() > config.memoryLimitBytes()) {
      exchange.sendJson(500, OllamaJson.error(String.format(java.util.Locale.ROOT,
          "model requires more system memory (%.1f GiB) than is available (%.1f GiB)",
          model.sizeBytes() / (double) (1L << 30), config.memoryLimitBytes() / (double) (1L << 30))));
      return;
    }
    Job job = new Job(kind, model, body, loadOptions(body), exchange, stream, keepAlive);
    byConnection.put(exchange.connection(), job);
    pending.addLast(job);
    pump();
  }

  /** {@code keep_alive: 0} with nothing to generate: unload the model now. */
  void unloadRequest(SimulatedModel model, Exchange exchange, Kind kind) {
    requests.incrementAndGet();
    Runner r = runners.get(model.name());
    if (r != null) {
      r.keepAlive = Duration.ZERO;
      if (r.idle()) {
        unload(r, "keep_alive 0");
      } else {
        r.draining = true;
      }
    }
    ObjectNode out = OllamaJson.object();
    out.put("model", model.name());
    out.put("created_at", OllamaJson.now());
    if (kind == Kind.CHAT) {
      ObjectNode msg = out.putObject("message");
      msg.put("role", "assistant");
      msg.put("content", "");
    } else {
      out.put("response", "");
    }
    out.put("done", true);
    out.put("done_reason", "unload");
    exchange.sendJson(200, out);
    pump();
  }

  /** The connection closed: cancel what it was waiting for. */
  void connectionClosed(Object connection) {
    Job job = byConnection.remove(connection);
    if (job != null) {
      cancel(job);
    }
  }

  /** The connection is writable again. */
  void writable(Object connection) {
    Job job = byConnection.get(connection);
    if (job != null) {
      resume(job);
    }
  }

  /** The client closed its connection. */
  void cancel(Job job) {
    if (job.finished) {
      return;
    }
    job.finished = true;
    byConnection.remove(job.exchange.connection(), job);
    cancelled.incrementAndGet();
    if (job.timer != null) {
      job.timer.cancel(false);
    }
    Runner r = job.runner;
    if (r == null) {
      pending.remove(job);
    } else if (!job.started) {
      r.waiting.remove(job);
    } else {
      release(r, job);
    }
    log.debug("simulator: request for {} cancelled by the client", job.model.name());
    pump();
  }

  /** The connection is writable again: resume a stream paused for backpressure. */
  void resume(Job job) {
    if (job.pausedForWrite && !job.finished) {
      job.pausedForWrite = false;
      emit(job);
    }
  }

  private static Map<String, String> loadOptions(ObjectNode body) {
    Map<String, String> out = new TreeMap<>();
    JsonNode opts = body.get("options");
    if (opts != null && opts.isObject()) {
      opts.fields().forEachRemaining(e -> {
        if (OllamaJson.LOAD_OPTIONS.contains(e.getKey())) {
          out.put(e.getKey(), e.getValue().asText());
        }
      });
    }
    return out;
  }

  // ---------------------------------------------------------------- scheduling

  private void pump() {
    while (!pending.isEmpty()) {
      Job head = pending.peekFirst();
      if (head.finished) {
        pending.pollFirst();
        continue;
      }
      if (!place(head)) {
        return; // head-of-line blocking, as Ollama does
      }
      pending.pollFirst();
    }
  }

  private boolean place(Job job) {
    Runner r = runners.get(job.model.name());
    if (r != null) {
      if (!r.draining && r.loadOptions.equals(job.loadOptions)) {
        assign(r, job);
        return true;
      }
      // Options differ (or an unload was asked for): drain, then reload.
      r.draining = true;
      if (!r.idle()) {
        return false;
      }
      if (!r.loadOptions.equals(job.loadOptions)) {
        reloads.incrementAndGet();
      }
      unload(r, "reload with different options");
    }
    while (!fits(job.model)) {
      Runner victim = runners.values().stream().filter(Runner::idle)
          .min(Comparator.comparingLong(x -> x.lastUsedNanos)).orElse(null);
      if (victim == null) {
        return false;
      }
      evictions.incrementAndGet();
      unload(victim, "evicted to make room for " + job.model.name());
    }
    Runner loaded = load(job.model, job.loadOptions, job.keepAlive);
    assign(loaded, job);
    return true;
  }

  private boolean fits(SimulatedModel m) {
    if (runners.size() >= config.maxLoadedModels()) {
      return false;
    }
    long used = runners.values().stream().mapToLong(x -> x.model.sizeBytes()).sum();
    return used + m.sizeBytes() <= config.memoryLimitBytes();
  }

  private Runner load(SimulatedModel model, Map<String, String> options, Duration keepAlive) {
    Runner r = new Runner(model, options, keepAlive);
    runners.put(model.name(), r);
    loads.incrementAndGet();
    loadsByModel.computeIfAbsent(model.name(), k -> new LongAdder()).increment();
    long loadSim = (long) (model.sizeBytes() / config.loadBytesPerSecond() * 1e9);
    r.loadEndNanos = r.loadStartNanos + real(loadSim);
    log.info("simulator: loading {} ({} bytes, {} ms simulated, options {})", model.name(),
        model.sizeBytes(), loadSim / 1_000_000, options);
    loop.schedule(() -> loaded(r), real(loadSim), TimeUnit.NANOSECONDS);
    return r;
  }

  private void loaded(Runner r) {
    if (runners.get(r.model.name()) != r) {
      return;
    }
    r.loading = false;
    startWaiting(r);
    if (r.idle()) {
      idle(r);
    }
    pump();
  }

  private void unload(Runner r, String why) {
    runners.remove(r.model.name());
    unloads.incrementAndGet();
    if (r.expiry != null) {
      r.expiry.cancel(false);
    }
    log.info("simulator: unloading {} ({})", r.model.name(), why);
  }

  private void assign(Runner r, Job job) {
    job.runner = r;
    r.waiting.addLast(job);
    if (job.keepAlive != r.keepAlive) {
      r.keepAlive = job.keepAlive;
    }
    if (r.expiry != null) {
      r.expiry.cancel(false);
      r.expiry = null;
    }
    if (!r.loading) {
      startWaiting(r);
    }
  }

  private void startWaiting(Runner r) {
    while (r.active < config.numParallel() && !r.waiting.isEmpty()) {
      Job job = r.waiting.pollFirst();
      if (job.finished) {
        continue;
      }
      start(r, job);
    }
  }

  private void start(Runner r, Job job) {
    r.active++;
    activeNow++;
    maxActive.accumulateAndGet(activeNow, Math::max);
    job.started = true;
    long now = System.nanoTime();
    job.readyAtNanos = now;
    // The part of this request's wait that was the model loading.
    long loadWaitReal = Math.max(0, Math.min(now, r.loadEndNanos) - Math.max(job.arrivedNanos, r.loadStartNanos));
    job.loadDurationSim = sim(loadWaitReal);
    switch (job.kind) {
      case EMBED -> startEmbed(job);
      case CHAT, GENERATE -> startGeneration(job);
      default -> throw new IllegalStateException();
    }
  }

  private void release(Runner r, Job job) {
    r.active--;
    activeNow--;
    r.lastUsedNanos = System.nanoTime();
    if (runners.get(r.model.name()) == r) {
      startWaiting(r);
      if (r.idle()) {
        idle(r);
      }
    }
  }

  private void idle(Runner r) {
    if (r.draining) {
      return; // pump() unloads or reloads it
    }
    if (r.keepAlive == null) {
      r.expiresAt = Instant.parse("2318-01-01T00:00:00Z");
      return;
    }
    if (r.keepAlive.isZero()) {
      unload(r, "keep_alive 0");
      return;
    }
    r.expiresAt = Instant.now().plus(r.keepAlive);
    r.expiry = loop.schedule(() -> {
      if (runners.get(r.model.name()) == r && r.idle()) {
        unload(r, "keep_alive expired");
        pump();
      }
    }, real(r.keepAlive.toNanos()), TimeUnit.NANOSECONDS);
  }

  // ---------------------------------------------------------------- generation

  private void startGeneration(Job job) {
    String prompt = promptText(job);
    if (prompt.isEmpty()) {
      // An empty prompt (or no messages) only loads the model.
      ObjectNode out = OllamaJson.object();
      out.put("model", job.model.name());
      out.put("created_at", OllamaJson.now());
      if (job.kind == Kind.CHAT) {
        ObjectNode msg = out.putObject("message");
        msg.put("role", "assistant");
        msg.put("content", "");
      } else {
        out.put("response", "");
      }
      out.put("done", true);
      out.put("done_reason", "load");
      job.exchange.sendJson(200, out);
      finish(job);
      return;
    }
    job.promptTokens = Math.max(1, prompt.length() / 4);
    JsonNode opts = job.body.path("options");
    int numPredict = opts.path("num_predict").asInt(-1);
    boolean wantsTool = job.kind == Kind.CHAT && job.model.tools()
        && job.body.path("tools").isArray() && job.body.path("tools").size() > 0
        && lastRole(job).equals("user");
    if (wantsTool) {
      job.toolCalls = toolCallsFor(job.body.path("tools").get(0));
      job.evalTarget = 12;
    } else if (numPredict > 0) {
      job.evalTarget = Math.min(numPredict, config.defaultResponseTokens() * 4);
      job.doneReason = numPredict <= config.defaultResponseTokens() * 4 ? "length" : "stop";
    } else {
      job.evalTarget = config.defaultResponseTokens();
    }
    job.promptEvalSim = (long) (job.promptTokens / config.promptTokensPerSecond() * 1e9);
    long perToken = (long) (1e9 / config.evalTokensPerSecond());
    if (job.stream) {
      job.exchange.startStream();
    }
    job.genStartNanos = System.nanoTime() + real(job.promptEvalSim);
    job.timer = loop.schedule(() -> emit(job), real(job.promptEvalSim + perToken), TimeUnit.NANOSECONDS);
  }

  private String lastRole(Job job) {
    JsonNode msgs = job.body.path("messages");
    return msgs.isArray() && msgs.size() > 0 ? msgs.get(msgs.size() - 1).path("role").asText() : "";
  }

  private static String promptText(Job job) {
    if (job.kind == Kind.GENERATE) {
      return job.body.path("system").asText("") + job.body.path("prompt").asText("");
    }
    StringBuilder sb = new StringBuilder();
    for (JsonNode m : job.body.path("messages")) {
      sb.append(m.path("role").asText()).append(": ").append(m.path("content").asText("")).append('\n');
    }
    if (job.body.has("tools")) {
      sb.append(job.body.get("tools").toString());
    }
    return sb.toString().trim();
  }

  private ArrayNode toolCallsFor(JsonNode tool) {
    ArrayNode calls = OllamaJson.MAPPER.createArrayNode();
    ObjectNode call = calls.addObject();
    ObjectNode fn = call.putObject("function");
    JsonNode f = tool.path("function");
    fn.put("name", f.path("name").asText("tool"));
    ObjectNode args = fn.putObject("arguments");
    JsonNode props = f.path("parameters").path("properties");
    for (JsonNode req : f.path("parameters").path("required")) {
      String type = props.path(req.asText()).path("type").asText("string");
      switch (type) {
        case "integer", "number" -> args.put(req.asText(), 1);
        case "boolean" -> args.put(req.asText(), true);
        default -> args.put(req.asText(), "simulated");
      }
    }
    return calls;
  }

  /** Emits the next token (or the tool call), then the final chunk. */
  private void emit(Job job) {
    job.timer = null;
    if (job.finished) {
      return;
    }
    if (!job.exchange.isOpen()) {
      cancel(job);
      return;
    }
    if (job.stream && !job.exchange.isWritable()) {
      job.pausedForWrite = true; // resumed by channelWritabilityChanged
      writePauses.incrementAndGet();
      return;
    }
    long perToken = (long) (1e9 / config.evalTokensPerSecond());
    if (job.toolCalls != null) {
      job.emitted = job.evalTarget;
      job.evalSim = perToken * job.evalTarget;
      if (job.stream) {
        job.exchange.streamLine(chunk(job, "", job.toolCalls, false));
      }
      complete(job);
      return;
    }
    // Timers fire late (about a millisecond on NIO), so emit every token that is due by now:
    // the rate stays right however coarse the timer or large the time scale.
    long realPerToken = Math.max(1, real(perToken));
    long due = (System.nanoTime() - job.genStartNanos) / realPerToken;
    do {
      String token = (job.emitted == 0 ? "" : " ") + WORDS[job.emitted % WORDS.length];
      job.emitted++;
      job.evalSim += perToken;
      job.full.append(token);
      if (job.stream) {
        job.exchange.streamLineLater(chunk(job, token, null, false));
      }
      if (job.emitted >= job.evalTarget) {
        complete(job);
        return;
      }
    } while (job.emitted < due && (!job.stream || job.exchange.isWritable()));
    if (job.stream) {
      job.exchange.flush(); // one flush for every token that was due
    }
    long next = job.genStartNanos + (job.emitted + 1) * realPerToken - System.nanoTime();
    job.timer = loop.schedule(() -> emit(job), Math.max(0, next), TimeUnit.NANOSECONDS);
  }

  private void complete(Job job) {
    ObjectNode last = job.stream ? chunk(job, "", null, true)
        : chunk(job, job.full.toString(), job.toolCalls, true);
    // counted (and its slot freed) before the last bytes go out: a client that has its answer
    // reads counters that include it (tests failed on "completed 5 of 6" under load)
    finish(job);
    if (job.stream) {
      job.exchange.streamLine(last);
      job.exchange.endStream();
    } else {
      job.exchange.sendJson(200, last);
    }
  }

  private void finish(Job job) {
    if (job.finished) {
      return;
    }
    job.finished = true;
    byConnection.remove(job.exchange.connection(), job);
    completed.incrementAndGet();
    if (job.runner != null) {
      release(job.runner, job);
    }
    pump();
  }

  private ObjectNode chunk(Job job, String text, ArrayNode toolCalls, boolean done) {
    ObjectNode out = OllamaJson.object();
    out.put("model", job.model.name());
    out.put("created_at", OllamaJson.now());
    if (job.kind == Kind.CHAT) {
      ObjectNode msg = out.putObject("message");
      msg.put("role", "assistant");
      msg.put("content", text);
      if (toolCalls != null) {
        msg.set("tool_calls", toolCalls);
      }
    } else {
      out.put("response", text);
    }
    out.put("done", done);
    if (done) {
      out.put("done_reason", job.doneReason);
      if (job.kind == Kind.GENERATE && !job.body.path("raw").asBoolean(false)) {
        ArrayNode ctx = out.putArray("context");
        for (int i = 0; i < Math.min(job.promptTokens + job.emitted, 64); i++) {
          ctx.add(1000 + i);
        }
      }
      long total = sim(System.nanoTime() - job.arrivedNanos);
      out.put("total_duration", Math.max(total, job.loadDurationSim + job.promptEvalSim + job.evalSim));
      out.put("load_duration", job.loadDurationSim);
      out.put("prompt_eval_count", job.promptTokens);
      out.put("prompt_eval_duration", job.promptEvalSim);
      out.put("eval_count", job.emitted);
      out.put("eval_duration", job.evalSim);
    }
    return out;
  }

  private void startEmbed(Job job) {
    JsonNode input = job.body.path("input");
    List<String> inputs = new ArrayList<>();
    if (input.isArray()) {
      input.forEach(n -> inputs.add(n.asText()));
    } else {
      inputs.add(input.asText(""));
    }
    int tokens = inputs.stream().mapToInt(s -> Math.max(1, s.length() / 4)).sum();
    long evalSim = (long) (tokens / config.promptTokensPerSecond() * 1e9);
    job.timer = loop.schedule(() -> {
      if (job.finished) {
        return;
      }
      ObjectNode out = OllamaJson.object();
      out.put("model", job.model.name());
      ArrayNode embs = out.putArray("embeddings");
      int dims = job.body.path("dimensions").asInt(0) > 0
          ? Math.min(job.body.path("dimensions").asInt(), job.model.embeddingLength())
          : job.model.embeddingLength();
      for (String s : inputs) {
        ArrayNode v = embs.addArray();
        for (double x : vector(s, dims)) {
          v.add((float) x);
        }
      }
      out.put("total_duration", job.loadDurationSim + evalSim);
      out.put("load_duration", job.loadDurationSim);
      out.put("prompt_eval_count", tokens);
      job.exchange.sendJson(200, out);
      finish(job);
    }, real(evalSim), TimeUnit.NANOSECONDS);
  }

  /** A deterministic unit vector for a text: same text, same vector. */
  static double[] vector(String text, int dims) {
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(text.hashCode());
    double[] v = new double[dims];
    double norm = 0;
    for (int i = 0; i < dims; i++) {
      v[i] = rnd.nextDouble(-1, 1);
      norm += v[i] * v[i];
    }
    norm = Math.sqrt(norm);
    for (int i = 0; i < dims; i++) {
      v[i] /= norm;
    }
    return v;
  }

  // ---------------------------------------------------------------- listing

  ObjectNode tags() {
    ObjectNode out = OllamaJson.object();
    ArrayNode arr = out.putArray("models");
    for (SimulatedModel m : config.models().values()) {
      ObjectNode e = arr.addObject();
      describe(m, e);
    }
    return out;
  }

  ObjectNode ps() {
    ObjectNode out = OllamaJson.object();
    ArrayNode arr = out.putArray("models");
    for (Runner r : runners.values()) {
      ObjectNode e = arr.addObject();
      describe(r.model, e);
      e.remove("modified_at");
      e.put("expires_at", OllamaJson.timestamp(r.expiresAt));
      e.put("size_vram", r.model.sizeBytes());
      String ctx = r.loadOptions.get("num_ctx");
      e.put("context_length", ctx == null ? 4096 : Integer.parseInt(ctx));
    }
    return out;
  }

  static void describe(SimulatedModel m, ObjectNode e) {
    e.put("name", m.name());
    e.put("model", m.name());
    e.put("modified_at", "2026-01-01T00:00:00.000000000Z");
    e.put("size", m.sizeBytes());
    e.put("digest", digest(m));
    details(m, e.putObject("details"));
  }

  static void details(SimulatedModel m, ObjectNode d) {
    d.put("parent_model", "");
    d.put("format", "gguf");
    d.put("family", m.family());
    d.putArray("families").add(m.family());
    d.put("parameter_size", m.parameterSize());
    d.put("quantization_level", m.quantization());
  }

  static String digest(SimulatedModel m) {
    try {
      byte[] h = java.security.MessageDigest.getInstance("SHA-256")
          .digest((m.name() + "/" + m.sizeBytes()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(h);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  ObjectNode show(SimulatedModel m) {
    ObjectNode out = OllamaJson.object();
    out.put("license", "Simulated model: no weights. Served by the thunderlink Ollama simulator.");
    out.put("modelfile", "# Modelfile generated by the thunderlink Ollama simulator\nFROM " + m.name() + "\n");
    out.put("parameters", "stop \"<|im_end|>\"");
    out.put("template", "{{ .Prompt }}");
    details(m, out.putObject("details"));
    ObjectNode info = out.putObject("model_info");
    info.put("general.architecture", m.family());
    info.put("general.parameter_count", (long) (m.sizeBytes() / 0.6));
    info.put(m.family() + ".context_length", m.contextLength());
    info.put(m.family() + ".embedding_length", m.embeddingLength());
    ArrayNode caps = out.putArray("capabilities");
    if (m.name().contains("embed")) {
      caps.add("embedding");
    } else {
      caps.add("completion");
      if (m.tools()) {
        caps.add("tools");
      }
    }
    out.put("modified_at", "2026-01-01T00:00:00.000000000Z");
    return out;
  }

  /** Runs the pull progress stream of {@code m}: manifest, one layer in steps, verify, success. */
  void pull(SimulatedModel m, Exchange exchange, boolean stream) {
    if (!stream) {
      long sim = (long) (m.sizeBytes() / (config.loadBytesPerSecond() * 4) * 1e9);
      loop.schedule(() -> {
        if (exchange.isOpen()) {
          ObjectNode ok = OllamaJson.object();
          ok.put("status", "success");
          exchange.sendJson(200, ok);
        }
      }, real(sim), TimeUnit.NANOSECONDS);
      return;
    }
    exchange.startStream();
    List<ObjectNode> steps = new ArrayList<>();
    steps.add(status("pulling manifest"));
    String digest = "sha256:" + digest(m);
    int parts = 8;
    for (int i = 0; i <= parts; i++) {
      ObjectNode s = status("pulling " + digest.substring(7, 19));
      s.put("digest", digest);
      s.put("total", m.sizeBytes());
      s.put("completed", m.sizeBytes() * i / parts);
      steps.add(s);
    }
    steps.add(status("verifying sha256 digest"));
    steps.add(status("writing manifest"));
    steps.add(status("success"));
    long stepSim = (long) (m.sizeBytes() / (config.loadBytesPerSecond() * 4) * 1e9 / steps.size());
    Iterator<ObjectNode> it = steps.iterator();
    Runnable[] next = new Runnable[1];
    next[0] = () -> {
      if (!exchange.isOpen()) {
        return;
      }
      exchange.streamLine(it.next());
      if (it.hasNext()) {
        loop.schedule(next[0], real(stepSim), TimeUnit.NANOSECONDS);
      } else {
        exchange.endStream();
      }
    };
    next[0].run();
  }

  private static ObjectNode status(String s) {
    ObjectNode n = OllamaJson.object();
    n.put("status", s);
    return n;
  }
}
