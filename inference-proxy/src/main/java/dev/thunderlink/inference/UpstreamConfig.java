package dev.thunderlink.inference;

import java.net.URI;
import java.util.Objects;

/**
 * One model server on the host.
 *
 * @param name a short name for logs and status, e.g. {@code ollama}
 * @param baseUri e.g. {@code http://127.0.0.1:11434}
 * @param kind the API it speaks
 * @param parallel requests one loaded model serves at once (Ollama's OLLAMA_NUM_PARALLEL);
 *     the scheduler never sends more
 */
public record UpstreamConfig(String name, URI baseUri, Kind kind, int parallel) {
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
  }

  /** A local Ollama with its defaults. */
  public static UpstreamConfig ollama(URI baseUri) {
    return new UpstreamConfig("ollama", baseUri, Kind.OLLAMA, 1);
  }
}
