package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.CompletableFuture;

/**
 * A model server on the host, spoken to in Ollama's JSON shapes whatever its own API is: an
 * OpenAI-compatible adapter translates. Implementations are thread-safe; callbacks of
 * {@link Observer} arrive on the client's threads, one at a time per stream.
 */
public interface Upstream extends AutoCloseable {

  /** Receives the objects of one streamed response. */
  interface Observer {
    void onObject(JsonNode object);

    /** The stream failed; no more callbacks follow. */
    void onError(UpstreamException error);

    /** The stream ended normally; no more callbacks follow. */
    void onComplete();
  }

  /** A running stream: demand and cancellation. Thread-safe. */
  interface Stream {
    /** Asks for {@code n} more objects (backpressure: nothing is read from the socket beyond). */
    void request(long n);

    /** Aborts the request: the connection to the upstream is closed. Idempotent. */
    void cancel();
  }

  String name();

  /** GET returning JSON ({@code /api/tags}, {@code /api/ps}, {@code /api/version}). */
  CompletableFuture<JsonNode> get(String path);

  /** POST returning one JSON object ({@code /api/show}, {@code /api/embed}). */
  CompletableFuture<JsonNode> post(String path, JsonNode body);

  /**
   * POST returning a stream of objects ({@code /api/chat}, {@code /api/generate},
   * {@code /api/pull}); no object is delivered before {@link Stream#request} asks for it.
   */
  Stream stream(String path, ObjectNode body, Observer observer);

  /** Unloads a model now (Ollama: {@code keep_alive: 0} with no prompt). */
  CompletableFuture<Void> unload(String model);

  /** The server's base URI, for relaying other HTTP paths as they are; empty if it has none. */
  default java.util.Optional<java.net.URI> baseUri() {
    return java.util.Optional.empty();
  }

  /** Maximum requests one loaded model serves at once (Ollama's OLLAMA_NUM_PARALLEL). */
  int parallel();

  @Override
  void close();
}
