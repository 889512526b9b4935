package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import dev.thunderlink.proto.inference.EmbedRequest;
import dev.thunderlink.proto.inference.GenerateChunk;
import dev.thunderlink.proto.inference.ListRequest;
import dev.thunderlink.proto.inference.Priority;
import dev.thunderlink.proto.inference.PullProgress;
import dev.thunderlink.proto.inference.PullRequest;
import dev.thunderlink.proto.inference.RunningRequest;
import dev.thunderlink.proto.inference.ShowRequest;
import dev.thunderlink.proto.inference.VersionRequest;
import io.grpc.Status;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ollama's native API on the front, translated to the gRPC inference service. Streams are
 * NDJSON, one line per token chunk, written as they arrive. Any thread.
 */
final class OllamaFront {
  private static final Logger log = LoggerFactory.getLogger(OllamaFront.class);

  private final InferenceClient client;
  private final Priority priority;

  OllamaFront(InferenceClient client, Priority priority) {
    this.client = client;
    this.priority = priority;
  }

  /** Answers {@code path}, or returns false if it is not an Ollama route. */
  boolean handle(HttpExchange ex, String method, String path, JsonNode body) {
    switch (path) {
      case "/", "/api/version", "/api/tags", "/api/ps" -> {
        if (!method.equals("GET") && !method.equals("HEAD")) {
          return false;
        }
      }
      case "/api/chat", "/api/generate", "/api/show", "/api/embed", "/api/pull" -> {
        if (!method.equals("POST")) {
          ex.json(405, OllamaJson.error("method not allowed"));
          return true;
        }
      }
      default -> {
        return false;
      }
    }
    switch (path) {
      case "/" -> ex.text(200, "Ollama is running (thunderlink proxy)");
      case "/api/version" -> unary(ex, client.futures().version(VersionRequest.getDefaultInstance()), v -> {
        ObjectNode o = OllamaJson.object();
        o.put("version", v.getVersion());
        if (!v.getSimulator().isEmpty()) {
          o.put("simulator", v.getSimulator());
        }
        return o;
      });
      case "/api/tags" -> unary(ex, client.futures().list(ListRequest.getDefaultInstance()), r -> {
        ObjectNode o = OllamaJson.object();
        ArrayNode a = o.putArray("models");
        r.getModelsList().forEach(m -> a.add(ProtoOllama.modelJson(m, false)));
        return o;
      });
      case "/api/ps" -> unary(ex, client.futures().running(RunningRequest.getDefaultInstance()), r -> {
        ObjectNode o = OllamaJson.object();
        ArrayNode a = o.putArray("models");
        r.getModelsList().forEach(m -> a.add(ProtoOllama.modelJson(m, true)));
        return o;
      });
      case "/api/show" -> {
        String model = body.hasNonNull("model") ? body.get("model").asText() : body.path("name").asText("");
        unary(ex, client.futures().show(ShowRequest.newBuilder().setModel(model)
            .setVerbose(body.path("verbose").asBoolean(false)).build()), r -> {
              try {
                return OllamaJson.MAPPER.readTree(r.getJson());
              } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
              }
            });
      }
      case "/api/embed" -> {
        EmbedRequest.Builder b = EmbedRequest.newBuilder().setModel(body.path("model").asText(""))
            .setTruncate(body.path("truncate").asBoolean(true)).setPriority(priority)
            .setDimensions(body.path("dimensions").asInt(0));
        JsonNode in = body.path("input");
        if (in.isArray()) {
          in.forEach(n -> b.addInput(n.asText()));
        } else if (in.isTextual()) {
          b.addInput(in.asText());
        } else {
          ex.json(400, OllamaJson.error("invalid input type"));
          return true;
        }
        if (body.has("options")) {
          b.setOptionsJson(body.get("options").toString());
        }
        unary(ex, client.futures().embed(b.build()), r -> {
          ObjectNode o = OllamaJson.object();
          o.put("model", r.getModel());
          ArrayNode embs = o.putArray("embeddings");
          r.getEmbeddingsList().forEach(e -> {
            ArrayNode v = embs.addArray();
            e.getValuesList().forEach(v::add);
          });
          o.put("total_duration", r.getTotalDuration());
          o.put("load_duration", r.getLoadDuration());
          o.put("prompt_eval_count", r.getPromptEvalCount());
          return o;
        });
      }
      case "/api/pull" -> pull(ex, body);
      case "/api/chat" -> generation(ex, body, true);
      default -> generation(ex, body, false);
    }
    return true;
  }

  private void generation(HttpExchange ex, JsonNode body, boolean chat) {
    if (body.path("model").asText("").isBlank()) {
      ex.json(400, OllamaJson.error("model is required"));
      return;
    }
    boolean stream = body.path("stream").asBoolean(true);
    GenerationSink sink = new GenerationSink(ex, chat, stream);
    InferenceClient.Cancellable call;
    try {
      call = chat
          ? client.chat(ProtoOllama.chatRequest(body).toBuilder().setPriority(priority).build(), sink)
          : client.generate(ProtoOllama.generateRequest(body).toBuilder().setPriority(priority).build(), sink);
    } catch (ProtoOllama.BadRequest | IllegalArgumentException e) {
      ex.json(400, OllamaJson.error(e.getMessage()));
      return;
    }
    ex.onClose(() -> {
      log.info("client left {}; cancelling", chat ? "/api/chat" : "/api/generate");
      call.cancel("client disconnected");
    });
  }

  /** Writes chunks as NDJSON lines, or collects them into one object for stream:false. */
  private static final class GenerationSink implements InferenceClient.Sink<GenerateChunk> {
    private final HttpExchange ex;
    private final boolean chat;
    private final boolean stream;
    private final StringBuilder content = new StringBuilder();
    private final StringBuilder thinking = new StringBuilder();
    private final java.util.List<dev.thunderlink.proto.inference.ToolCall> toolCalls = new java.util.ArrayList<>();

    GenerationSink(HttpExchange ex, boolean chat, boolean stream) {
      this.ex = ex;
      this.chat = chat;
      this.stream = stream;
    }

    @Override
    public void onMessage(GenerateChunk c, Runnable next) {
      if (stream) {
        if (!ex.isStarted()) {
          ex.start("application/x-ndjson");
        }
        ex.write(new String(OllamaJson.line(ProtoOllama.ollamaChunk(c, chat)),
            java.nio.charset.StandardCharsets.UTF_8), next);
        return;
      }
      content.append(c.getContent());
      thinking.append(c.getThinking());
      toolCalls.addAll(c.getToolCallsList());
      if (c.getDone()) {
        GenerateChunk whole = c.toBuilder().setContent(content.toString())
            .setThinking(thinking.toString()).clearToolCalls().addAllToolCalls(toolCalls).build();
        ex.json(200, ProtoOllama.ollamaChunk(whole, chat));
      }
      next.run();
    }

    @Override
    public void onError(Status s) {
      failed(ex, s);
    }

    @Override
    public void onComplete() {
      if (ex.isStarted()) {
        ex.end();
      }
    }
  }

  /** Ends a call that failed: an error line inside a started stream (as Ollama does), else an HTTP error. */
  private static void failed(HttpExchange ex, Status s) {
    String msg = s.getDescription() == null ? s.getCode().toString() : s.getDescription();
    if (ex.isStarted()) {
      ex.write(new String(OllamaJson.line(OllamaJson.error(msg)), java.nio.charset.StandardCharsets.UTF_8));
      ex.end();
    } else {
      ex.json(ProtoOllama.httpStatus(s), OllamaJson.error(msg));
    }
  }

  private void pull(HttpExchange ex, JsonNode body) {
    String model = body.hasNonNull("model") ? body.get("model").asText() : body.path("name").asText("");
    boolean stream = body.path("stream").asBoolean(true);
    InferenceClient.Cancellable call = client.pull(PullRequest.newBuilder().setModel(model)
        .setInsecure(body.path("insecure").asBoolean(false)).build(), new InferenceClient.Sink<>() {
          ObjectNode last;

          @Override
          public void onMessage(PullProgress p, Runnable next) {
            ObjectNode o = OllamaJson.object();
            o.put("status", p.getStatus());
            if (!p.getDigest().isEmpty()) {
              o.put("digest", p.getDigest());
              o.put("total", p.getTotal());
              o.put("completed", p.getCompleted());
            }
            last = o;
            if (stream) {
              if (!ex.isStarted()) {
                ex.start("application/x-ndjson");
              }
              ex.write(new String(OllamaJson.line(o), java.nio.charset.StandardCharsets.UTF_8), next);
            } else {
              next.run();
            }
          }

          @Override
          public void onError(Status s) {
            failed(ex, s);
          }

          @Override
          public void onComplete() {
            if (ex.isStarted()) {
              ex.end();
            } else {
              ex.json(200, last == null ? OllamaJson.object().put("status", "success") : last);
            }
          }
        });
    ex.onClose(() -> call.cancel("client disconnected"));
  }

  static <T> void unary(HttpExchange ex, ListenableFuture<T> f, Function<T, JsonNode> render) {
    unary(ex, f, render, ApiDialect.OLLAMA);
  }

  static <T> void unary(HttpExchange ex, ListenableFuture<T> f, Function<T, JsonNode> render, ApiDialect dialect) {
    ex.onClose(() -> f.cancel(true));
    Futures.addCallback(f, new FutureCallback<T>() {
      @Override
      public void onSuccess(T v) {
        JsonNode out;
        try {
          out = render.apply(v);
        } catch (RuntimeException e) {
          ex.json(502, dialect.error(502, "bad answer from the host: " + e.getMessage()));
          return;
        }
        ex.json(200, out);
      }

      @Override
      public void onFailure(Throwable t) {
        Status s = Status.fromThrowable(t);
        String msg = s.getDescription() == null ? s.getCode().toString() : s.getDescription();
        int http = ProtoOllama.httpStatus(s);
        log.info("request failed: HTTP {} {}", http, msg);
        ex.json(http, dialect.error(http, msg));
      }
    }, MoreExecutors.directExecutor());
  }
}
