package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.proto.inference.ChatRequest;
import dev.thunderlink.proto.inference.EmbedRequest;
import dev.thunderlink.proto.inference.GenerateChunk;
import dev.thunderlink.proto.inference.GenerateRequest;
import dev.thunderlink.proto.inference.ListRequest;
import dev.thunderlink.proto.inference.Message;
import dev.thunderlink.proto.inference.Priority;
import dev.thunderlink.proto.inference.ToolCall;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenAI's API on the front ({@code /v1/chat/completions}, {@code /v1/completions},
 * {@code /v1/models}, {@code /v1/embeddings}), translated to the gRPC inference service.
 * Streams are server-sent events ending with {@code data: [DONE]}. Any thread.
 */
final class OpenAiFront {
  private static final Logger log = LoggerFactory.getLogger(OpenAiFront.class);
  private static final ApiDialect D = ApiDialect.OPENAI;

  private final InferenceClient client;
  private final Priority priority;

  OpenAiFront(InferenceClient client, Priority priority) {
    this.client = client;
    this.priority = priority;
  }

  boolean handle(HttpExchange ex, String method, String path, JsonNode body) {
    switch (path) {
      case "/v1/models" -> {
        if (!method.equals("GET")) {
          return false;
        }
        OllamaFront.unary(ex, client.futures().list(ListRequest.getDefaultInstance()), r -> {
          ObjectNode o = OllamaJson.object();
          o.put("object", "list");
          ArrayNode data = o.putArray("data");
          r.getModelsList().forEach(m -> {
            ObjectNode e = data.addObject();
            e.put("id", m.getName());
            e.put("object", "model");
            e.put("created", created(m.getModifiedAt()));
            e.put("owned_by", "library");
          });
          return o;
        }, D);
        return true;
      }
      case "/v1/chat/completions", "/v1/completions", "/v1/embeddings" -> {
        if (!method.equals("POST")) {
          ex.json(405, D.error(405, "method not allowed"));
          return true;
        }
      }
      default -> {
        return false;
      }
    }
    if (body.path("model").asText("").isBlank()) {
      ex.json(400, D.error(400, "you must provide a model parameter"));
      return true;
    }
    try {
      switch (path) {
        case "/v1/embeddings" -> embeddings(ex, body);
        case "/v1/completions" -> completion(ex, body, false);
        default -> completion(ex, body, true);
      }
    } catch (ProtoOllama.BadRequest | IllegalArgumentException e) {
      ex.json(400, D.error(400, e.getMessage()));
    }
    return true;
  }

  private static long created(String rfc3339) {
    try {
      return java.time.OffsetDateTime.parse(rfc3339).toEpochSecond();
    } catch (RuntimeException e) {
      return System.currentTimeMillis() / 1000;
    }
  }

  /** OpenAI request parameters to Ollama options. */
  static ObjectNode options(JsonNode b) {
    ObjectNode o = OllamaJson.object();
    copy(b, "temperature", o, "temperature");
    copy(b, "top_p", o, "top_p");
    copy(b, "seed", o, "seed");
    copy(b, "frequency_penalty", o, "frequency_penalty");
    copy(b, "presence_penalty", o, "presence_penalty");
    copy(b, "max_tokens", o, "num_predict");
    copy(b, "max_completion_tokens", o, "num_predict");
    JsonNode stop = b.get("stop");
    if (stop != null && !stop.isNull()) {
      ArrayNode s = o.putArray("stop");
      if (stop.isArray()) {
        stop.forEach(s::add);
      } else {
        s.add(stop.asText());
      }
    }
    return o;
  }

  private static void copy(JsonNode from, String f, ObjectNode to, String t) {
    JsonNode v = from.get(f);
    if (v != null && !v.isNull()) {
      to.set(t, v);
    }
  }

  private static String text(JsonNode content, List<com.google.protobuf.ByteString> images) {
    if (content.isTextual()) {
      return content.asText();
    }
    StringBuilder sb = new StringBuilder();
    for (JsonNode part : content) {
      String type = part.path("type").asText();
      if (type.equals("text")) {
        sb.append(part.path("text").asText());
      } else if (type.equals("image_url")) {
        String url = part.path("image_url").path("url").asText("");
        int comma = url.indexOf(";base64,");
        if (url.startsWith("data:") && comma > 0) {
          images.add(com.google.protobuf.ByteString.copyFrom(
              java.util.Base64.getDecoder().decode(url.substring(comma + 8))));
        } else {
          throw new ProtoOllama.BadRequest("image_url: only data: URLs are supported");
        }
      }
    }
    return sb.toString();
  }

  private void completion(HttpExchange ex, JsonNode b, boolean chat) {
    String model = b.path("model").asText();
    boolean stream = b.path("stream").asBoolean(false);
    boolean usage = b.path("stream_options").path("include_usage").asBoolean(false);
    ObjectNode opts = options(b);
    String format = "";
    JsonNode rf = b.path("response_format");
    if (rf.path("type").asText().equals("json_object")) {
      format = "\"json\"";
    } else if (rf.path("type").asText().equals("json_schema")) {
      format = rf.path("json_schema").path("schema").toString();
    }
    Sink sink = new Sink(ex, chat, stream, usage, model);
    InferenceClient.Cancellable call;
    if (chat) {
      JsonNode msgs = b.path("messages");
      if (!msgs.isArray() || msgs.isEmpty()) {
        ex.json(400, D.error(400, "messages: expected a non-empty array"));
        return;
      }
      ChatRequest.Builder r = ChatRequest.newBuilder().setModel(model).setPriority(priority)
          .setOptionsJson(opts.toString()).setFormatJson(format);
      for (JsonNode m : msgs) {
        List<com.google.protobuf.ByteString> images = new ArrayList<>();
        Message.Builder mb = Message.newBuilder().setRole(m.path("role").asText("user"))
            .setContent(text(m.path("content"), images)).addAllImages(images);
        if (mb.getRole().equals("developer")) {
          mb.setRole("system");
        }
        for (JsonNode tc : m.path("tool_calls")) {
          mb.addToolCalls(ToolCall.newBuilder().setId(tc.path("id").asText(""))
              .setName(tc.path("function").path("name").asText(""))
              .setArgumentsJson(tc.path("function").path("arguments").asText("{}")));
        }
        r.addMessages(mb);
      }
      if (b.has("tools")) {
        r.setToolsJson(b.get("tools").toString());
      }
      call = client.chat(r.build(), sink);
    } else {
      JsonNode p = b.path("prompt");
      String prompt = p.isArray() ? (p.size() > 0 ? p.get(0).asText() : "") : p.asText("");
      call = client.generate(GenerateRequest.newBuilder().setModel(model).setPrompt(prompt)
          .setSuffix(b.path("suffix").asText("")).setPriority(priority)
          .setOptionsJson(opts.toString()).setFormatJson(format).build(), sink);
    }
    ex.onClose(() -> {
      log.info("client left {}; cancelling", ex.path);
      call.cancel("client disconnected");
    });
  }

  /** Chunks to OpenAI's shapes, streamed as SSE or collected. */
  private static final class Sink implements InferenceClient.Sink<GenerateChunk> {
    private final HttpExchange ex;
    private final boolean chat;
    private final boolean stream;
    private final boolean usage;
    private final String model;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;
    private final StringBuilder content = new StringBuilder();
    private final List<ToolCall> toolCalls = new ArrayList<>();
    private boolean first = true;

    Sink(HttpExchange ex, boolean chat, boolean stream, boolean usage, String model) {
      this.ex = ex;
      this.chat = chat;
      this.stream = stream;
      this.usage = usage;
      this.model = model;
      this.id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    }

    private ObjectNode envelope(String object) {
      ObjectNode o = OllamaJson.object();
      o.put("id", id);
      o.put("object", object);
      o.put("created", created);
      o.put("model", model);
      o.put("system_fingerprint", "fp_thunderlink");
      return o;
    }

    private static String finish(GenerateChunk c, boolean tools) {
      if (tools) {
        return "tool_calls";
      }
      return c.getDoneReason().equals("length") ? "length" : "stop";
    }

    private static ArrayNode toolCallsJson(List<ToolCall> calls, boolean withIndex) {
      ArrayNode arr = OllamaJson.MAPPER.createArrayNode();
      int i = 0;
      for (ToolCall tc : calls) {
        ObjectNode o = arr.addObject();
        if (withIndex) {
          o.put("index", i);
        }
        o.put("id", tc.getId().isEmpty() ? "call_" + UUID.randomUUID().toString().substring(0, 8) : tc.getId());
        o.put("type", "function");
        ObjectNode f = o.putObject("function");
        f.put("name", tc.getName());
        f.put("arguments", tc.getArgumentsJson().isEmpty() ? "{}" : tc.getArgumentsJson());
        i++;
      }
      return arr;
    }

    private ObjectNode usageJson(GenerateChunk c) {
      ObjectNode u = OllamaJson.object();
      long p = c.getStatistics().getPromptEvalCount();
      long e = c.getStatistics().getEvalCount();
      u.put("prompt_tokens", p);
      u.put("completion_tokens", e);
      u.put("total_tokens", p + e);
      return u;
    }

    private void sse(JsonNode o, Runnable next) {
      ex.write("data: " + o + "\n\n", next);
    }

    @Override
    public void onMessage(GenerateChunk c, Runnable next) {
      toolCalls.addAll(c.getToolCallsList());
      if (!stream) {
        content.append(c.getContent());
        if (c.getDone()) {
          ObjectNode o = envelope(chat ? "chat.completion" : "text_completion");
          ObjectNode choice = o.putArray("choices").addObject();
          choice.put("index", 0);
          if (chat) {
            ObjectNode m = choice.putObject("message");
            m.put("role", "assistant");
            m.put("content", content.toString());
            if (!toolCalls.isEmpty()) {
              m.set("tool_calls", toolCallsJson(toolCalls, false));
            }
          } else {
            choice.put("text", content.toString());
          }
          choice.putNull("logprobs");
          choice.put("finish_reason", finish(c, !toolCalls.isEmpty()));
          o.set("usage", usageJson(c));
          ex.json(200, o);
        }
        next.run();
        return;
      }
      if (!ex.isStarted()) {
        ex.start("text/event-stream");
      }
      ObjectNode o = envelope(chat ? "chat.completion.chunk" : "text_completion");
      ObjectNode choice = o.putArray("choices").addObject();
      choice.put("index", 0);
      if (chat) {
        ObjectNode delta = choice.putObject("delta");
        if (first) {
          delta.put("role", "assistant");
        }
        if (!c.getContent().isEmpty() || c.getToolCallsCount() == 0) {
          delta.put("content", c.getContent());
        }
        if (c.getToolCallsCount() > 0) {
          delta.set("tool_calls", toolCallsJson(c.getToolCallsList(), true));
        }
      } else {
        choice.put("text", c.getContent());
      }
      first = false;
      if (c.getDone()) {
        choice.put("finish_reason", finish(c, !toolCalls.isEmpty()));
        if (usage) {
          o.putNull("usage");
        }
        ex.write("data: " + o + "\n\n");
        if (usage) {
          ObjectNode u = envelope(chat ? "chat.completion.chunk" : "text_completion");
          u.putArray("choices");
          u.set("usage", usageJson(c));
          ex.write("data: " + u + "\n\n");
        }
        ex.write("data: [DONE]\n\n", next);
        return;
      }
      choice.putNull("finish_reason");
      if (usage) {
        o.putNull("usage");
      }
      sse(o, next);
    }

    @Override
    public void onError(Status s) {
      String msg = s.getDescription() == null ? s.getCode().toString() : s.getDescription();
      int http = ProtoOllama.httpStatus(s);
      if (ex.isStarted()) {
        ex.write("data: " + D.error(http, msg) + "\n\n");
        ex.end();
      } else {
        ex.json(http, D.error(http, msg));
      }
    }

    @Override
    public void onComplete() {
      if (ex.isStarted()) {
        ex.end();
      }
    }
  }

  private void embeddings(HttpExchange ex, JsonNode b) {
    EmbedRequest.Builder r = EmbedRequest.newBuilder().setModel(b.path("model").asText())
        .setPriority(priority).setTruncate(true).setDimensions(b.path("dimensions").asInt(0));
    JsonNode in = b.path("input");
    if (in.isTextual()) {
      r.addInput(in.asText());
    } else if (in.isArray() && in.size() > 0 && in.get(0).isTextual()) {
      in.forEach(n -> r.addInput(n.asText()));
    } else {
      ex.json(400, D.error(400, "input: expected a string or an array of strings"));
      return;
    }
    boolean base64 = b.path("encoding_format").asText("float").equals("base64");
    OllamaFront.unary(ex, client.futures().embed(r.build()), resp -> {
      ObjectNode o = OllamaJson.object();
      o.put("object", "list");
      ArrayNode data = o.putArray("data");
      for (int i = 0; i < resp.getEmbeddingsCount(); i++) {
        ObjectNode e = data.addObject();
        e.put("object", "embedding");
        List<Float> v = resp.getEmbeddings(i).getValuesList();
        if (base64) {
          java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(v.size() * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
          v.forEach(buf::putFloat);
          e.put("embedding", java.util.Base64.getEncoder().encodeToString(buf.array()));
        } else {
          ArrayNode arr = e.putArray("embedding");
          v.forEach(arr::add);
        }
        e.put("index", i);
      }
      o.put("model", resp.getModel());
      ObjectNode u = o.putObject("usage");
      u.put("prompt_tokens", resp.getPromptEvalCount());
      u.put("total_tokens", resp.getPromptEvalCount());
      return o;
    }, D);
  }
}
