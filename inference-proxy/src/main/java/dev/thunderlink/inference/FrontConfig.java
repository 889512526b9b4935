package dev.thunderlink.inference;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Immutable configuration of one HTTP front port (Ollama, OpenAI and Anthropic APIs), built by
 * {@link #builder()}. Defaults: 127.0.0.1, only loopback clients, no token, 32 MiB bodies.
 */
public final class FrontConfig {
  private final String bindHost;
  private final int port;
  private final int maxBodyBytes;
  private final String bearerToken;
  private final boolean allowRemoteClients;
  private final boolean interactive;
  private final int warmup;

  private FrontConfig(Builder b) {
    this.bindHost = b.bindHost;
    this.port = b.port;
    this.maxBodyBytes = b.maxBodyBytes;
    this.bearerToken = b.bearerToken;
    this.allowRemoteClients = b.allowRemoteClients;
    this.interactive = b.interactive;
    this.warmup = b.warmup;
  }

  public static Builder builder() {
    return new Builder();
  }

  public String bindHost() { return bindHost; }
  public int port() { return port; }
  public int maxBodyBytes() { return maxBodyBytes; }
  /** If present, every request must carry {@code Authorization: Bearer <token>} or {@code x-api-key}. */
  public Optional<String> bearerToken() { return Optional.ofNullable(bearerToken); }
  public boolean allowRemoteClients() { return allowRemoteClients; }
  /** Whether requests through this port are interactive (else batch) unless they say. */
  public boolean interactive() { return interactive; }
  /**
   * Requests of the JIT warm-up ({@link Warmup}) {@link InferenceWorkstation#start} runs in the
   * background; 0 (the default here) = none; the workstation daemon asks for
   * {@link Warmup#defaultRequests()} unless {@code [inference] warmup = false}. Not read for the
   * host's local front: {@link InferenceHostConfig#warmup()} covers the host.
   */
  public int warmup() { return warmup; }

  @Override
  public String toString() {
    return "FrontConfig{" + bindHost + ":" + port + ", maxBodyBytes=" + maxBodyBytes
        + ", token=" + (bearerToken == null ? "none" : "set") + ", allowRemoteClients="
        + allowRemoteClients + ", interactive=" + interactive + ", warmup=" + warmup + '}';
  }

  /** Validating builder; not thread-safe. */
  public static final class Builder {
    private String bindHost = "127.0.0.1";
    private int port = 11434;
    private int maxBodyBytes = 32 << 20;
    private String bearerToken;
    private boolean allowRemoteClients;
    private boolean interactive = true;
    private int warmup;

    private Builder() {}

    public Builder bindHost(String v) { this.bindHost = Objects.requireNonNull(v); return this; }
    /** 0 picks a free port (tests). */
    public Builder port(int v) { this.port = v; return this; }
    public Builder maxBodyBytes(int v) { this.maxBodyBytes = v; return this; }
    public Builder bearerToken(String v) { this.bearerToken = v; return this; }
    public Builder allowRemoteClients(boolean v) { this.allowRemoteClients = v; return this; }
    public Builder interactive(boolean v) { this.interactive = v; return this; }
    public Builder warmup(int requests) { this.warmup = requests; return this; }

    public FrontConfig build() {
      List<String> errors = new ArrayList<>();
      if (port < 0 || port > 65535) errors.add("port: " + port + " (expected: 0..65535)");
      if (maxBodyBytes < 1024) errors.add("maxBodyBytes: " + maxBodyBytes + " (expected: >= 1024)");
      if (bearerToken != null && bearerToken.isBlank()) errors.add("bearerToken: \"\" (expected: non-blank, or none)");
      if (warmup < 0) errors.add("warmup: " + warmup + " (expected: >= 0 requests; 0 = none)");
      if (!errors.isEmpty()) {
        throw new IllegalArgumentException(String.join("; ", errors));
      }
      return new FrontConfig(this);
    }
  }
}
