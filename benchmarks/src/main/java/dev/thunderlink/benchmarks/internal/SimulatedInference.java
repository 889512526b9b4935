package dev.thunderlink.benchmarks.internal;

import dev.thunderlink.inference.InferenceHost;
import dev.thunderlink.inference.InferenceHostConfig;
import dev.thunderlink.inference.SchedulerConfig;
import dev.thunderlink.inference.SimulatedModel;
import dev.thunderlink.inference.SimulatorConfig;
import java.time.Duration;

/**
 * The host side of the token-stream benchmarks ({@code thunderlink bench --emulate}'s {@code
 * token-stream} suite and the JMH {@code TokenStreamBenchmark}): the inference host's scheduler over
 * a SIMULATED Ollama serving one small model fast (500 tokens/s, loads at 20 GB/s), so the figures
 * show what the path adds, not a model's speed. No local front.
 */
public final class SimulatedInference {
  /** The one simulated model. */
  public static final String MODEL = "bench-simulated:1b";
  /** Tokens per answer unless a request says otherwise. */
  public static final int TOKENS = 64;

  private SimulatedInference() {}

  /** Starts it; the caller closes it. */
  public static InferenceHost startHost() {
    return InferenceHost.start(InferenceHostConfig.builder()
        .simulator(SimulatorConfig.builder()
            .model(SimulatedModel.of(MODEL, 1_000_000_000L))
            .evalTokensPerSecond(500)
            .promptTokensPerSecond(50_000)
            .loadBytesPerSecond(20e9)
            .defaultResponseTokens(TOKENS)
            .build())
        .scheduler(SchedulerConfig.builder().linger(Duration.ZERO).build())
        .noLocalFront()
        .build());
  }
}
