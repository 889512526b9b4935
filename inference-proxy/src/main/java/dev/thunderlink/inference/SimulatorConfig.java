package dev.thunderlink.inference;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Immutable configuration of an {@link OllamaSimulator}, built by {@link #builder()} and
 * validated once by {@link Builder#build()}.
 *
 * <p>All durations the simulator reports are <em>simulated</em> time; the simulator actually
 * waits {@code simulated / timeScale}, so a test may run a 25 s model load in 25 ms with
 * {@code timeScale(1000)} and still see {@code load_duration} of 25 s.
 */
public final class SimulatorConfig {
  private final String bindHost;
  private final int port;
  private final Map<String, SimulatedModel> models;
  private final long memoryLimitBytes;
  private final int maxLoadedModels;
  private final int numParallel;
  private final double loadBytesPerSecond;
  private final double promptTokensPerSecond;
  private final double evalTokensPerSecond;
  private final int defaultResponseTokens;
  private final Duration defaultKeepAlive;
  private final double timeScale;
  private final int maxRequestBytes;

  private SimulatorConfig(Builder b) {
    this.bindHost = b.bindHost;
    this.port = b.port;
    this.models = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.models));
    this.memoryLimitBytes = b.memoryLimitBytes;
    this.maxLoadedModels = b.maxLoadedModels;
    this.numParallel = b.numParallel;
    this.loadBytesPerSecond = b.loadBytesPerSecond;
    this.promptTokensPerSecond = b.promptTokensPerSecond;
    this.evalTokensPerSecond = b.evalTokensPerSecond;
    this.defaultResponseTokens = b.defaultResponseTokens;
    this.defaultKeepAlive = b.defaultKeepAlive;
    this.timeScale = b.timeScale;
    this.maxRequestBytes = b.maxRequestBytes;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * A Mac mini with 64 GB: three coder/chat models of different sizes and an embedding model,
   * 48 GB usable for models, Ollama's defaults otherwise.
   */
  public static Builder macMini64() {
    return builder()
        .memoryLimitBytes(48L << 30)
        .model(new SimulatedModel("qwen2.5-coder:32b", 19_851_349_669L, "qwen2", "32.8B", "Q4_K_M",
            32768, 5120, true))
        .model(new SimulatedModel("llama3.3:70b", 42_520_413_916L, "llama", "70.6B", "Q4_K_M",
            131072, 8192, true))
        .model(new SimulatedModel("llama3.2:3b", 2_019_393_189L, "llama", "3.2B", "Q4_K_M",
            131072, 3072, true))
        .model(new SimulatedModel("nomic-embed-text:latest", 274_302_450L, "nomic-bert", "137M",
            "F16", 2048, 768, false));
  }

  public String bindHost() { return bindHost; }
  public int port() { return port; }
  /** Catalogue by full name ({@code name:tag}). */
  public Map<String, SimulatedModel> models() { return models; }
  public long memoryLimitBytes() { return memoryLimitBytes; }
  public int maxLoadedModels() { return maxLoadedModels; }
  public int numParallel() { return numParallel; }
  public double loadBytesPerSecond() { return loadBytesPerSecond; }
  public double promptTokensPerSecond() { return promptTokensPerSecond; }
  public double evalTokensPerSecond() { return evalTokensPerSecond; }
  public int defaultResponseTokens() { return defaultResponseTokens; }
  public Duration defaultKeepAlive() { return defaultKeepAlive; }
  public double timeScale() { return timeScale; }
  public int maxRequestBytes() { return maxRequestBytes; }

  @Override
  public String toString() {
    return "SimulatorConfig{models=" + models.keySet() + ", memoryLimitBytes=" + memoryLimitBytes
        + ", maxLoadedModels=" + maxLoadedModels + ", numParallel=" + numParallel
        + ", timeScale=" + timeScale + '}';
  }

  /** Validating builder; not thread-safe. */
  public static final class Builder {
    private String bindHost = "127.0.0.1";
    private int port = 0;
    private final Map<String, SimulatedModel> models = new LinkedHashMap<>();
    private long memoryLimitBytes = 48L << 30;
    private int maxLoadedModels = 3;
    private int numParallel = 1;
    private double loadBytesPerSecond = 0.8e9;
    private double promptTokensPerSecond = 400;
    private double evalTokensPerSecond = 40;
    private int defaultResponseTokens = 24;
    private Duration defaultKeepAlive = Duration.ofMinutes(5);
    private double timeScale = 1.0;
    private int maxRequestBytes = 32 << 20;

    private Builder() {}

    public Builder bindHost(String host) { this.bindHost = Objects.requireNonNull(host); return this; }
    /** 0 picks a free port. */
    public Builder port(int port) { this.port = port; return this; }
    public Builder model(SimulatedModel model) { models.put(model.name(), model); return this; }
    public Builder models(List<SimulatedModel> list) { list.forEach(this::model); return this; }
    public Builder memoryLimitBytes(long v) { this.memoryLimitBytes = v; return this; }
    /** Ollama's OLLAMA_MAX_LOADED_MODELS. */
    public Builder maxLoadedModels(int v) { this.maxLoadedModels = v; return this; }
    /** Ollama's OLLAMA_NUM_PARALLEL: requests one loaded model serves at once. */
    public Builder numParallel(int v) { this.numParallel = v; return this; }
    /** Speed of a model load from SSD (Ollama on a Mac mini: ~0.7–0.9 GB/s). */
    public Builder loadBytesPerSecond(double v) { this.loadBytesPerSecond = v; return this; }
    public Builder promptTokensPerSecond(double v) { this.promptTokensPerSecond = v; return this; }
    public Builder evalTokensPerSecond(double v) { this.evalTokensPerSecond = v; return this; }
    /** Tokens generated when a request sets no {@code num_predict}. */
    public Builder defaultResponseTokens(int v) { this.defaultResponseTokens = v; return this; }
    public Builder defaultKeepAlive(Duration v) { this.defaultKeepAlive = Objects.requireNonNull(v); return this; }
    /** Simulated seconds per real second; larger runs faster. */
    public Builder timeScale(double v) { this.timeScale = v; return this; }
    public Builder maxRequestBytes(int v) { this.maxRequestBytes = v; return this; }

    public SimulatorConfig build() {
      List<String> errors = new ArrayList<>();
      if (port < 0 || port > 65535) errors.add("port: " + port + " (expected: 0..65535)");
      if (models.isEmpty()) errors.add("models: [] (expected: at least one model)");
      if (memoryLimitBytes <= 0) errors.add("memoryLimitBytes: " + memoryLimitBytes + " (expected: > 0)");
      if (maxLoadedModels < 1) errors.add("maxLoadedModels: " + maxLoadedModels + " (expected: >= 1)");
      if (numParallel < 1) errors.add("numParallel: " + numParallel + " (expected: >= 1)");
      if (!(loadBytesPerSecond > 0)) errors.add("loadBytesPerSecond: " + loadBytesPerSecond + " (expected: > 0)");
      if (!(promptTokensPerSecond > 0)) errors.add("promptTokensPerSecond: " + promptTokensPerSecond + " (expected: > 0)");
      if (!(evalTokensPerSecond > 0)) errors.add("evalTokensPerSecond: " + evalTokensPerSecond + " (expected: > 0)");
      if (defaultResponseTokens < 1) errors.add("defaultResponseTokens: " + defaultResponseTokens + " (expected: >= 1)");
      if (defaultKeepAlive.isNegative()) errors.add("defaultKeepAlive: " + defaultKeepAlive + " (expected: >= 0)");
      if (!(timeScale > 0)) errors.add("timeScale: " + timeScale + " (expected: > 0)");
      if (maxRequestBytes < 1024) errors.add("maxRequestBytes: " + maxRequestBytes + " (expected: >= 1024)");
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(String.join("; ", errors));
      }
      return new SimulatorConfig(this);
    }
  }
}
