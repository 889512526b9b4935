package dev.thunderlink.inference;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Immutable configuration of the host's model scheduler, built by {@link #builder()}.
 *
 * <ul>
 *   <li>{@code maxLoadedModels} and {@code memoryBudgetBytes}: at most that many models, and
 *       that many bytes of them (by the sizes the upstream reports; 0 = no byte limit), are
 *       loaded at once; another is loaded only after an explicit unload.
 *   <li>{@code maxGroupWait}: how long requests for a model that is not loaded may wait while
 *       the loaded model still has work, before the scheduler swaps anyway (no starvation).
 *   <li>{@code linger}: how long an idle loaded model is kept for its clients' next request
 *       before it is swapped out for waiting requests of another model.
 *   <li>{@code agingAfter}: a batch request that has waited this long ranks as interactive.
 *   <li>{@code pinnedOptions}: load-time options (e.g. {@code num_ctx}) per model; every
 *       request for that model is sent with them, so no client forces a reload.
 * </ul>
 */
public final class SchedulerConfig {
  private final int maxLoadedModels;
  private final long memoryBudgetBytes;
  private final Duration maxGroupWait;
  private final Duration linger;
  private final Duration agingAfter;
  private final int maxQueued;
  private final Duration idleUnloadAfter;
  private final Map<String, Map<String, Object>> pinnedOptions;

  private SchedulerConfig(Builder b) {
    this.maxLoadedModels = b.maxLoadedModels;
    this.memoryBudgetBytes = b.memoryBudgetBytes;
    this.maxGroupWait = b.maxGroupWait;
    this.linger = b.linger;
    this.agingAfter = b.agingAfter;
    this.maxQueued = b.maxQueued;
    this.idleUnloadAfter = b.idleUnloadAfter;
    Map<String, Map<String, Object>> p = new LinkedHashMap<>();
    b.pinnedOptions.forEach((k, v) -> p.put(k, Map.copyOf(v)));
    this.pinnedOptions = Map.copyOf(p);
  }

  public static Builder builder() {
    return new Builder();
  }

  public static SchedulerConfig defaults() {
    return builder().build();
  }

  public int maxLoadedModels() { return maxLoadedModels; }
  public long memoryBudgetBytes() { return memoryBudgetBytes; }
  public Duration maxGroupWait() { return maxGroupWait; }
  public Duration linger() { return linger; }
  public Duration agingAfter() { return agingAfter; }
  public int maxQueued() { return maxQueued; }
  /**
   * An idle loaded model is unloaded after this long (the scheduler sends requests with
   * {@code keep_alive: -1}, so the upstream never unloads on its own); zero = never.
   */
  public Duration idleUnloadAfter() { return idleUnloadAfter; }
  /** Model name ({@code name:tag}) to pinned load-time options. */
  public Map<String, Map<String, Object>> pinnedOptions() { return pinnedOptions; }

  @Override
  public String toString() {
    return "SchedulerConfig{maxLoadedModels=" + maxLoadedModels + ", memoryBudgetBytes="
        + memoryBudgetBytes + ", maxGroupWait=" + maxGroupWait + ", linger=" + linger
        + ", agingAfter=" + agingAfter + ", maxQueued=" + maxQueued + ", idleUnloadAfter="
        + idleUnloadAfter + ", pinnedOptions="
        + pinnedOptions + '}';
  }

  /** Validating builder; not thread-safe. */
  public static final class Builder {
    private int maxLoadedModels = 1;
    private long memoryBudgetBytes = 0;
    private Duration maxGroupWait = Duration.ofSeconds(60);
    private Duration linger = Duration.ofSeconds(3);
    private Duration agingAfter = Duration.ofSeconds(30);
    private int maxQueued = 1000;
    private Duration idleUnloadAfter = Duration.ofMinutes(30);
    private final Map<String, Map<String, Object>> pinnedOptions = new LinkedHashMap<>();

    private Builder() {}

    public Builder maxLoadedModels(int v) { this.maxLoadedModels = v; return this; }
    public Builder memoryBudgetBytes(long v) { this.memoryBudgetBytes = v; return this; }
    public Builder maxGroupWait(Duration v) { this.maxGroupWait = Objects.requireNonNull(v); return this; }
    public Builder linger(Duration v) { this.linger = Objects.requireNonNull(v); return this; }
    public Builder agingAfter(Duration v) { this.agingAfter = Objects.requireNonNull(v); return this; }
    public Builder maxQueued(int v) { this.maxQueued = v; return this; }
    public Builder idleUnloadAfter(Duration v) { this.idleUnloadAfter = Objects.requireNonNull(v); return this; }

    /** Pins load-time options for a model, e.g. {@code pin("qwen2.5-coder:32b", Map.of("num_ctx", 32768))}. */
    public Builder pin(String model, Map<String, Object> options) {
      String name = model.contains(":") ? model : model + ":latest";
      pinnedOptions.put(name, new LinkedHashMap<>(options));
      return this;
    }

    public SchedulerConfig build() {
      List<String> errors = new ArrayList<>();
      if (maxLoadedModels < 1) errors.add("maxLoadedModels: " + maxLoadedModels + " (expected: >= 1)");
      if (memoryBudgetBytes < 0) errors.add("memoryBudgetBytes: " + memoryBudgetBytes + " (expected: >= 0, 0 = no limit)");
      if (maxGroupWait.isNegative()) errors.add("maxGroupWait: " + maxGroupWait + " (expected: >= 0)");
      if (linger.isNegative()) errors.add("linger: " + linger + " (expected: >= 0)");
      if (agingAfter.isNegative()) errors.add("agingAfter: " + agingAfter + " (expected: >= 0)");
      if (idleUnloadAfter.isNegative()) errors.add("idleUnloadAfter: " + idleUnloadAfter + " (expected: >= 0, 0 = never)");
      if (maxQueued < 1) errors.add("maxQueued: " + maxQueued + " (expected: >= 1)");
      pinnedOptions.forEach((model, opts) -> opts.forEach((k, v) -> {
        if (!dev.thunderlink.inference.internal.OllamaJson.LOAD_OPTIONS.contains(k)) {
          errors.add("pinnedOptions[" + model + "]." + k + ": not a load-time option (expected: one of "
              + new java.util.TreeSet<>(dev.thunderlink.inference.internal.OllamaJson.LOAD_OPTIONS) + ")");
        }
      }));
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(String.join("; ", errors));
      }
      return new SchedulerConfig(this);
    }
  }
}
