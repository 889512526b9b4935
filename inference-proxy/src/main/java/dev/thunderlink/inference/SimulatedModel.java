package dev.thunderlink.inference;

import java.util.Objects;

/**
 * One model in the {@link OllamaSimulator}'s catalogue. Immutable.
 *
 * @param name Ollama name with tag, e.g. {@code qwen2.5-coder:32b}
 * @param sizeBytes bytes on disk and in memory once loaded
 * @param family model family, e.g. {@code qwen2}
 * @param parameterSize e.g. {@code 32.8B}
 * @param quantization e.g. {@code Q4_K_M}
 * @param contextLength the model's trained context length
 * @param embeddingLength length of the vectors {@code /api/embed} returns
 * @param tools whether the model advertises the {@code tools} capability
 */
public record SimulatedModel(String name, long sizeBytes, String family, String parameterSize,
    String quantization, int contextLength, int embeddingLength, boolean tools) {

  public SimulatedModel {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("name: \"" + name + "\" (expected: non-blank)");
    }
    if (!name.contains(":")) {
      name = name + ":latest";
    }
    if (sizeBytes <= 0) {
      throw new IllegalArgumentException("sizeBytes: " + sizeBytes + " (expected: > 0)");
    }
    if (contextLength <= 0) {
      throw new IllegalArgumentException("contextLength: " + contextLength + " (expected: > 0)");
    }
    if (embeddingLength <= 0) {
      throw new IllegalArgumentException("embeddingLength: " + embeddingLength + " (expected: > 0)");
    }
    Objects.requireNonNull(family, "family");
    Objects.requireNonNull(parameterSize, "parameterSize");
    Objects.requireNonNull(quantization, "quantization");
  }

  /** A model with common defaults for the descriptive fields. */
  public static SimulatedModel of(String name, long sizeBytes) {
    return new SimulatedModel(name, sizeBytes, "llama", approximateParameters(sizeBytes),
        "Q4_K_M", 32768, 768, true);
  }

  private static String approximateParameters(long sizeBytes) {
    // Q4_K_M stores roughly 0.6 bytes per parameter.
    double billions = sizeBytes / 0.6e9;
    return String.format(java.util.Locale.ROOT, "%.1fB", billions);
  }
}
