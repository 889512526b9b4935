package dev.thunderlink.inference;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Immutable configuration of the host side, built by {@link #builder()}: the upstreams (or a
 * simulator standing in for them), the scheduler, and the host's local front for its own
 * agents (default 127.0.0.1:11435, batch priority).
 */
public final class InferenceHostConfig {
  private final List<UpstreamConfig> upstreams;
  private final SimulatorConfig simulator;
  private final SchedulerConfig scheduler;
  private final FrontConfig localFront;
  private final Duration connectTimeout;
  private final Duration headersTimeout;
  private final Duration idleTimeout;
  private final int warmup;

  private InferenceHostConfig(Builder b) {
    this.upstreams = List.copyOf(b.upstreams);
    this.simulator = b.simulator;
    this.scheduler = b.scheduler;
    this.localFront = b.localFront;
    this.connectTimeout = b.connectTimeout;
    this.headersTimeout = b.headersTimeout;
    this.idleTimeout = b.idleTimeout;
    this.warmup = b.warmup;
  }

  public static Builder builder() {
    return new Builder();
  }

  public List<UpstreamConfig> upstreams() { return upstreams; }
  /** If present, the host starts this simulator and uses it as its only upstream. */
  public Optional<SimulatorConfig> simulator() { return Optional.ofNullable(simulator); }
  public SchedulerConfig scheduler() { return scheduler; }
  /** The host's own Ollama-compatible port for local agents; empty = none. */
  public Optional<FrontConfig> localFront() { return Optional.ofNullable(localFront); }
  public Duration connectTimeout() { return connectTimeout; }
  /** How long to wait for an upstream's response headers (includes a model load). */
  public Duration headersTimeout() { return headersTimeout; }
  /** How long a stream may stay silent while its reader wants more. */
  public Duration idleTimeout() { return idleTimeout; }
  /**
   * Requests of the JIT warm-up ({@link Warmup}) {@link InferenceHost#start} runs in the
   * background; 0 (the default here: tests, embedding) = none. The daemons ask for
   * {@link Warmup#defaultRequests()} unless {@code [inference] warmup = false}.
   */
  public int warmup() { return warmup; }

  /** Validating builder; not thread-safe. */
  public static final class Builder {
    private final List<UpstreamConfig> upstreams = new ArrayList<>();
    private SimulatorConfig simulator;
    private SchedulerConfig scheduler = SchedulerConfig.defaults();
    private FrontConfig localFront = FrontConfig.builder().port(11435).interactive(false).build();
    private Duration connectTimeout = Duration.ofSeconds(2);
    private Duration headersTimeout = Duration.ofMinutes(5);
    private Duration idleTimeout = Duration.ofMinutes(2);
    private int warmup;

    private Builder() {}

    public Builder upstream(UpstreamConfig u) { upstreams.add(Objects.requireNonNull(u)); return this; }
    public Builder simulator(SimulatorConfig s) { this.simulator = s; return this; }
    public Builder scheduler(SchedulerConfig s) { this.scheduler = Objects.requireNonNull(s); return this; }
    public Builder localFront(FrontConfig f) { this.localFront = f; return this; }
    public Builder noLocalFront() { this.localFront = null; return this; }
    public Builder connectTimeout(Duration d) { this.connectTimeout = Objects.requireNonNull(d); return this; }
    public Builder headersTimeout(Duration d) { this.headersTimeout = Objects.requireNonNull(d); return this; }
    public Builder idleTimeout(Duration d) { this.idleTimeout = Objects.requireNonNull(d); return this; }
    public Builder warmup(int requests) { this.warmup = requests; return this; }

    public InferenceHostConfig build() {
      List<String> errors = new ArrayList<>();
      if (upstreams.isEmpty() && simulator == null) {
        errors.add("upstreams: [] (expected: at least one upstream, or a simulator)");
      }
      if (!upstreams.isEmpty() && simulator != null) {
        errors.add("simulator: set together with upstreams " + upstreams.stream().map(UpstreamConfig::name).toList()
            + " (expected: one or the other)");
      }
      if (upstreams.stream().map(UpstreamConfig::name).distinct().count() != upstreams.size()) {
        errors.add("upstreams: duplicate names (expected: unique)");
      }
      for (var d : List.of(connectTimeout, headersTimeout, idleTimeout)) {
        if (d.isNegative() || d.isZero()) {
          errors.add("timeout: " + d + " (expected: > 0)");
        }
      }
      if (warmup < 0) {
        errors.add("warmup: " + warmup + " (expected: >= 0 requests; 0 = none)");
      }
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(String.join("; ", errors));
      }
      return new InferenceHostConfig(this);
    }
  }
}
