package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** A recording observer: every object, the time of the first, and the end. Any thread. */
class Collect implements Upstream.Observer {
  final List<JsonNode> objects = new CopyOnWriteArrayList<>();
  final CompletableFuture<List<JsonNode>> done = new CompletableFuture<>();
  final long startNanos = System.nanoTime();
  volatile long firstNanos;
  volatile long endNanos;

  @Override
  public void onObject(JsonNode object) {
    if (firstNanos == 0) {
      firstNanos = System.nanoTime();
    }
    objects.add(object);
  }

  @Override
  public void onError(UpstreamException error) {
    endNanos = System.nanoTime();
    done.completeExceptionally(error);
  }

  @Override
  public void onComplete() {
    endNanos = System.nanoTime();
    done.complete(objects);
  }

  static ObjectNode chat(String model, String text) {
    ObjectNode b = OllamaJson.object();
    b.put("model", model);
    ObjectNode m = b.putArray("messages").addObject();
    m.put("role", "user");
    m.put("content", text);
    return b;
  }

  JsonNode last() {
    return objects.get(objects.size() - 1);
  }
}
