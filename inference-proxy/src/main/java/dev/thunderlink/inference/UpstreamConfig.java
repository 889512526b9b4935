package dev.thunderlink.inference;

import java.net.URI;
import java.util.Map;
import java.util.Objects;

/**
 * One model server on the host.
 *
 * @param name a short name for logs and status, e.g. {@code ollama}
 * @param baseUri e.g. {@code http://127.0.0.1:11434}
 * @param kind the API it speaks
 * @param parallel requests one loaded model serves at once (Ollama's OLLAMA_NUM_PARALLEL);
 *     the scheduler never sends more
 * @param modelSizes bytes each model takes when loaded, by model name, for servers that do not
 *     say (OpenAI-compatible ones list no sizes): the scheduler's memory budget counts them;
 *     a size the server reports wins
 */
public record UpstreamConfig(String name, URI baseUri, Kind kind, int parallel, Map<String, Long> modelSizes) {
  /** The API an upstream speaks. */
  public enum Kind { OLLAMA, OPENAI }

  public UpstreamConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(baseUri, "baseUri");
    Objects.requireNonNull(kind, "kind");
    if (!"http".equals(baseUri.getScheme()) && !"https".equals(baseUri.getScheme())) {
      throw new IllegalArgumentException("baseUri: " + baseUri + " (expected: http:// or https://)");
    }
    if (parallel < 1) {
      throw new IllegalArgumentException("parallel: " + parallel + " (expected: >= 1)");
    }
    modelSizes.forEach((model, bytes) -> {
      if (bytes == null || bytes < 1) {
        throw new IllegalArgumentException("modelSizes." + model + ": " + bytes + " (expected: >= 1 byte)");
      }
    });
    modelSizes = Map.copyOf(modelSizes);
  }

  /** An upstream whose models' sizes come from the server itself. */
  public UpstreamConfig(String name, URI baseUri, Kind kind, int parallel) {
    this(name, baseUri, kind, parallel, Map.of());
  }

  /** A local Ollama with its defaults. */
  public static UpstreamConfig ollama(URI baseUri) {
    return new UpstreamConfig("ollama", baseUri, Kind.OLLAMA, 1);
  }
}
