package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * An OpenAI-compatible server (llama.cpp server, LM Studio, MLX servers, vLLM) behind
 * Ollama's shapes: {@code /api/chat} becomes {@code /v1/chat/completions}, {@code /api/generate}
 * becomes {@code /v1/completions}, SSE deltas become Ollama chunks, usage becomes the final
 * statistics (durations measured here; such servers do not report them), {@code /api/tags}
 * comes from {@code /v1/models} (sizes from the configuration, else unknown: 0). Such servers
 * cannot unload or pull: {@link #unload} does nothing, pull fails with 501.
 *
 * <p>Thread-safe; each stream's translation state is confined to its callbacks.
 */
public final class OpenAiUpstream implements Upstream {
  private final java.util.Map<String, Long> sizes;
  private final OllamaUpstream http;

  /** @param http the HTTP transport to the server's base URI (its Ollama routes are unused) */
  public OpenAiUpstream(OllamaUpstream http) {
    this(http, java.util.Map.of());
  }

  /**
   * @param sizes bytes per model from the configuration: {@code /v1/models} has no sizes, and
   *     without them the scheduler's memory budget would count these models as 0
   */
  public OpenAiUpstream(OllamaUpstream http, java.util.Map<String, Long> sizes) {
    this.http = http;
    this.sizes = java.util.Map.copyOf(sizes);
  }

  @Override
  public String name() {
    return http.name();
  }

  @Override
  public java.util.Optional<java.net.URI> baseUri() {
    return http.baseUri();
  }

  @Override
  public int parallel() {
    return http.parallel();
  }

  @Override
  public CompletableFuture<JsonNode> get(String path) {
    switch (path) {
      case "/api/tags" -> {
        return http.get("/v1/models").thenApply(r -> {
          ObjectNode out = OllamaJson.object();
          ArrayNode models = out.putArray("models");
          for (JsonNode m : r.path("data")) {
            String id = m.path("id").asText();
            ObjectNode e = models.addObject();
            e.put("name", id);
            e.put("model", id);
            e.put("modified_at", OllamaJson.timestamp(java.time.Instant.ofEpochSecond(m.path("created").asLong())));
            e.put("size", sizes.getOrDefault(id, 0L));
            e.put("digest", "");
            ObjectNode d = e.putObject("details");
            d.put("format", "openai-compatible");
            d.put("family", m.path("owned_by").asText(""));
          }
          return out;
        });
      }
      case "/api/ps" -> {
        ObjectNode out = OllamaJson.object();
        out.putArray("models");
        return CompletableFuture.completedFuture(out);
      }
      case "/api/version" -> {
        ObjectNode v = OllamaJson.object();
        v.put("version", "openai-compatible");
        return CompletableFuture.completedFuture(v);
      }
      default -> {
        return http.get(path);
      }
    }
  }

  @Override
  public CompletableFuture<JsonNode> post(String path, JsonNode body) {
    switch (path) {
      case "/api/embed" -> {
        ObjectNode req = OllamaJson.object();
        req.put("model", body.path("model").asText());
        req.set("input", body.path("input"));
        long t0 = System.nanoTime();
        return http.post("/v1/embeddings", req).thenApply(r -> {
          ObjectNode out = OllamaJson.object();
          out.put("model", body.path("model").asText());
          ArrayNode embs = out.putArray("embeddings");
          r.path("data").forEach(d -> embs.add(d.path("embedding")));
          out.put("total_duration", System.nanoTime() - t0);
          out.put("load_duration", 0);
          out.put("prompt_eval_count", r.path("usage").path("prompt_tokens").asLong());
          return out;
        });
      }
      case "/api/show" -> {
        ObjectNode out = OllamaJson.object();
        out.put("modelfile", "");
        out.put("parameters", "");
        out.put("template", "");
        ObjectNode d = out.putObject("details");
        d.put("format", "openai-compatible");
        out.putArray("capabilities").add("completion").add("tools");
        return CompletableFuture.completedFuture(out);
      }
      default -> {
        return CompletableFuture.failedFuture(new UpstreamException(501,
            "upstream " + name() + " (OpenAI-compatible) has no " + path));
      }
    }
  }

  @Override
  public Stream stream(String path, ObjectNode body, Observer observer) {
    boolean chat = path.equals("/api/chat");
    if (!chat && !path.equals("/api/generate")) {
      observer.onError(new UpstreamException(501, "upstream " + name() + " (OpenAI-compatible) cannot " + path));
      return new Stream() {
        @Override public void request(long n) { }
        @Override public void cancel() { }
      };
    }
    ObjectNode req = chat ? chatRequest(body) : completionRequest(body);
    return http.streamLines(chat ? "/v1/chat/completions" : "/v1/completions", req,
        new SseTranslator(body.path("model").asText(), chat), observer);
  }

  static ObjectNode options(JsonNode body, ObjectNode req) {
    JsonNode o = body.path("options");
    if (o.has("temperature")) req.set("temperature", o.get("temperature"));
    if (o.has("top_p")) req.set("top_p", o.get("top_p"));
    if (o.has("seed")) req.set("seed", o.get("seed"));
    if (o.has("num_predict") && o.get("num_predict").asInt() > 0) req.set("max_tokens", o.get("num_predict"));
    if (o.has("stop")) req.set("stop", o.get("stop"));
    if (o.has("frequency_penalty")) req.set("frequency_penalty", o.get("frequency_penalty"));
    if (o.has("presence_penalty")) req.set("presence_penalty", o.get("presence_penalty"));
    req.put("stream", true);
    req.putObject("stream_options").put("include_usage", true);
    JsonNode f = body.path("format");
    if (f.isTextual() && f.asText().equals("json")) {
      req.putObject("response_format").put("type", "json_object");
    } else if (f.isObject()) {
      ObjectNode rf = req.putObject("response_format");
      rf.put("type", "json_schema");
      ObjectNode js = rf.putObject("json_schema");
      js.put("name", "response");
      js.set("schema", f);
    }
    return req;
  }

  static ObjectNode chatRequest(JsonNode body) {
    ObjectNode req = OllamaJson.object();
    req.put("model", body.path("model").asText());
    ArrayNode msgs = req.putArray("messages");
    for (JsonNode m : body.path("messages")) {
      ObjectNode o = msgs.addObject();
      o.put("role", m.path("role").asText());
      if (m.path("images").size() > 0) {
        ArrayNode parts = o.putArray("content");
        parts.addObject().put("type", "text").put("text", m.path("content").asText(""));
        for (JsonNode img : m.path("images")) {
          parts.addObject().put("type", "image_url").putObject("image_url")
              .put("url", "data:image/png;base64," + img.asText());
        }
      } else {
        o.put("content", m.path("content").asText(""));
      }
      if (m.path("tool_calls").size() > 0) {
        ArrayNode tcs = o.putArray("tool_calls");
        int i = 0;
        for (JsonNode tc : m.path("tool_calls")) {
          ObjectNode t = tcs.addObject();
          t.put("id", tc.path("id").asText("call_" + i++));
          t.put("type", "function");
          t.putObject("function").put("name", tc.path("function").path("name").asText())
              .put("arguments", tc.path("function").path("arguments").toString());
        }
      }
      if (m.has("tool_name")) {
        o.put("tool_call_id", m.path("tool_name").asText());
      }
    }
    if (body.path("tools").isArray()) {
      req.set("tools", body.get("tools"));
    }
    return options(body, req);
  }

  static ObjectNode completionRequest(JsonNode body) {
    ObjectNode req = OllamaJson.object();
    req.put("model", body.path("model").asText());
    String system = body.path("system").asText("");
    req.put("prompt", system.isEmpty() ? body.path("prompt").asText("") : system + "\n\n" + body.path("prompt").asText(""));
    if (body.has("suffix")) {
      req.set("suffix", body.get("suffix"));
    }
    return options(body, req);
  }

  /** SSE lines of one stream to Ollama chunks. Confined to the stream's callbacks. */
  private static final class SseTranslator implements java.util.function.Function<String, List<JsonNode>> {
    private final String model;
    private final boolean chat;
    private final long startNanos = System.nanoTime();
    private long firstTokenNanos;
    private String finish = "stop";
    private long promptTokens;
    private long completionTokens;
    private long chunks;
    private final Map<Integer, ObjectNode> toolCalls = new TreeMap<>();
    private final Map<Integer, StringBuilder> toolArgs = new TreeMap<>();

    SseTranslator(String model, boolean chat) {
      this.model = model;
      this.chat = chat;
    }

    @Override
    public List<JsonNode> apply(String line) {
      if (!line.startsWith("data:")) {
        return List.of();
      }
      String data = line.substring(5).trim();
      if (data.equals("[DONE]")) {
        return List.of(done());
      }
      JsonNode n;
      try {
        n = OllamaJson.MAPPER.readTree(data);
      } catch (java.io.IOException e) {
        throw new UpstreamException(502, "OpenAI-compatible upstream sent a bad event: " + OllamaJson.parseError(e));
      }
      if (n.has("error")) {
        JsonNode e = n.get("error");
        throw new UpstreamException(500, e.isObject() ? e.path("message").asText() : e.asText());
      }
      if (n.has("usage") && n.get("usage").isObject()) {
        promptTokens = n.get("usage").path("prompt_tokens").asLong(promptTokens);
        completionTokens = n.get("usage").path("completion_tokens").asLong(completionTokens);
      }
      List<JsonNode> out = new ArrayList<>();
      for (JsonNode choice : n.path("choices")) {
        String text = chat ? choice.path("delta").path("content").asText("") : choice.path("text").asText("");
        for (JsonNode tc : choice.path("delta").path("tool_calls")) {
          int idx = tc.path("index").asInt(0);
          ObjectNode call = toolCalls.computeIfAbsent(idx, k -> OllamaJson.object());
          if (tc.hasNonNull("id")) call.put("id", tc.get("id").asText());
          if (tc.path("function").hasNonNull("name")) call.put("name", tc.path("function").get("name").asText());
          toolArgs.computeIfAbsent(idx, k -> new StringBuilder()).append(tc.path("function").path("arguments").asText(""));
        }
        if (choice.hasNonNull("finish_reason")) {
          finish = choice.get("finish_reason").asText().equals("length") ? "length" : "stop";
        }
        if (!text.isEmpty()) {
          if (firstTokenNanos == 0) {
            firstTokenNanos = System.nanoTime();
          }
          chunks++;
          out.add(chunk(text, null, false));
        }
      }
      return out;
    }

    private ObjectNode chunk(String text, ArrayNode calls, boolean done) {
      ObjectNode o = OllamaJson.object();
      o.put("model", model);
      o.put("created_at", OllamaJson.now());
      if (chat) {
        ObjectNode m = o.putObject("message");
        m.put("role", "assistant");
        m.put("content", text);
        if (calls != null) m.set("tool_calls", calls);
      } else {
        o.put("response", text);
      }
      o.put("done", done);
      return o;
    }

    private ObjectNode done() {
      ArrayNode calls = null;
      if (!toolCalls.isEmpty()) {
        calls = OllamaJson.MAPPER.createArrayNode();
        for (var e : toolCalls.entrySet()) {
          ObjectNode c = calls.addObject();
          if (e.getValue().has("id")) c.put("id", e.getValue().get("id").asText());
          ObjectNode f = c.putObject("function");
          f.put("name", e.getValue().path("name").asText());
          String args = toolArgs.get(e.getKey()).toString();
          try {
            f.set("arguments", args.isBlank() ? OllamaJson.object() : OllamaJson.MAPPER.readTree(args));
          } catch (java.io.IOException bad) {
            f.put("arguments", args);
          }
        }
      }
      ObjectNode o = chunk("", calls, true);
      long now = System.nanoTime();
      long first = firstTokenNanos == 0 ? now : firstTokenNanos;
      o.put("done_reason", finish);
      o.put("total_duration", now - startNanos);
      o.put("load_duration", 0);
      o.put("prompt_eval_count", promptTokens);
      o.put("prompt_eval_duration", first - startNanos);
      o.put("eval_count", completionTokens > 0 ? completionTokens : chunks);
      o.put("eval_duration", now - first);
      return o;
    }
  }

  @Override
  public CompletableFuture<Void> unload(String model) {
    return CompletableFuture.completedFuture(null); // OpenAI-compatible servers cannot unload
  }

  @Override
  public void close() {
    http.close();
  }
}
