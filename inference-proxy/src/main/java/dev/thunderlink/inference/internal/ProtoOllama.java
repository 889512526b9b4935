package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.thunderlink.proto.inference.ChatRequest;
import dev.thunderlink.proto.inference.GenerateChunk;
import dev.thunderlink.proto.inference.GenerateRequest;
import dev.thunderlink.proto.inference.Message;
import dev.thunderlink.proto.inference.ModelDetails;
import dev.thunderlink.proto.inference.ModelEntry;
import dev.thunderlink.proto.inference.Statistics;
import dev.thunderlink.proto.inference.ToolCall;
import io.grpc.Status;
import java.util.Base64;

/**
 * Translation between Ollama's JSON and the typed messages of inference.proto, both ways.
 * Stateless; any thread.
 */
public final class ProtoOllama {
  private ProtoOllama() {}

  /** Thrown for a request body that is JSON but not a valid request; one human line. */
  public static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BadRequest(String message) {
      super(message, null, false, false);
    }
  }

  private static String json(JsonNode n) {
    return n == null || n.isNull() || n.isMissingNode() ? "" : n.toString();
  }

  private static JsonNode parse(String s) {
    if (s == null || s.isEmpty()) {
      return null;
    }
    try {
      return OllamaJson.MAPPER.readTree(s);
    } catch (java.io.IOException e) {
      throw new BadRequest("invalid JSON: " + OllamaJson.parseError(e));
    }
  }

  // ------------------------------------------------------------ Ollama JSON -> proto

  public static ChatRequest chatRequest(JsonNode b) {
    ChatRequest.Builder r = ChatRequest.newBuilder().setModel(b.path("model").asText(""));
    JsonNode msgs = b.path("messages");
    if (!msgs.isMissingNode() && !msgs.isNull() && !msgs.isArray()) {
      throw new BadRequest("messages: " + msgs.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)
          + " (expected: an array)");
    }
    for (JsonNode m : msgs) {
      r.addMessages(message(m));
    }
    r.setToolsJson(json(b.get("tools")));
    r.setFormatJson(json(b.get("format")));
    r.setOptionsJson(json(b.get("options")));
    if (b.has("keep_alive")) {
      r.setKeepAlive(b.get("keep_alive").asText());
    }
    if (b.has("think") && b.get("think").isBoolean()) {
      r.setThink(b.get("think").asBoolean());
    }
    return r.build();
  }

  public static Message message(JsonNode m) {
    Message.Builder mb = Message.newBuilder()
        .setRole(m.path("role").asText("user"))
        .setContent(m.path("content").asText(""))
        .setThinking(m.path("thinking").asText(""))
        .setToolName(m.path("tool_name").asText(""));
    for (JsonNode img : m.path("images")) {
      mb.addImages(ByteString.copyFrom(Base64.getDecoder().decode(img.asText())));
    }
    for (JsonNode tc : m.path("tool_calls")) {
      mb.addToolCalls(toolCall(tc));
    }
    return mb.build();
  }

  static ToolCall toolCall(JsonNode tc) {
    JsonNode f = tc.path("function");
    JsonNode args = f.path("arguments");
    return ToolCall.newBuilder().setId(tc.path("id").asText(""))
        .setName(f.path("name").asText(""))
        .setArgumentsJson(args.isTextual() ? args.asText() : json(args))
        .build();
  }

  public static GenerateRequest generateRequest(JsonNode b) {
    GenerateRequest.Builder r = GenerateRequest.newBuilder()
        .setModel(b.path("model").asText(""))
        .setPrompt(b.path("prompt").asText(""))
        .setSuffix(b.path("suffix").asText(""))
        .setSystem(b.path("system").asText(""))
        .setTemplate(b.path("template").asText(""))
        .setRaw(b.path("raw").asBoolean(false))
        .setFormatJson(json(b.get("format")))
        .setOptionsJson(json(b.get("options")));
    for (JsonNode img : b.path("images")) {
      r.addImages(ByteString.copyFrom(Base64.getDecoder().decode(img.asText())));
    }
    if (b.has("keep_alive")) {
      r.setKeepAlive(b.get("keep_alive").asText());
    }
    if (b.has("think") && b.get("think").isBoolean()) {
      r.setThink(b.get("think").asBoolean());
    }
    return r.build();
  }

  /** An upstream object (chat or generate chunk) to a proto chunk. */
  public static GenerateChunk chunk(JsonNode o, long queuedNanos) {
    GenerateChunk.Builder c = GenerateChunk.newBuilder()
        .setModel(o.path("model").asText(""))
        .setCreatedAt(o.path("created_at").asText(""))
        .setDone(o.path("done").asBoolean(false))
        .setDoneReason(o.path("done_reason").asText(""));
    JsonNode msg = o.path("message");
    if (msg.isObject()) {
      c.setContent(msg.path("content").asText(""));
      c.setThinking(msg.path("thinking").asText(""));
      for (JsonNode tc : msg.path("tool_calls")) {
        c.addToolCalls(toolCall(tc));
      }
    } else {
      c.setContent(o.path("response").asText(""));
      c.setThinking(o.path("thinking").asText(""));
    }
    for (JsonNode n : o.path("context")) {
      c.addContext(n.asLong());
    }
    if (c.getDone()) {
      c.setStatistics(Statistics.newBuilder()
          .setTotalDuration(o.path("total_duration").asLong())
          .setLoadDuration(o.path("load_duration").asLong())
          .setPromptEvalCount(o.path("prompt_eval_count").asLong())
          .setPromptEvalDuration(o.path("prompt_eval_duration").asLong())
          .setEvalCount(o.path("eval_count").asLong())
          .setEvalDuration(o.path("eval_duration").asLong())
          .setQueueDuration(queuedNanos));
    }
    return c.build();
  }

  public static ModelEntry modelEntry(JsonNode m) {
    JsonNode d = m.path("details");
    ModelDetails.Builder db = ModelDetails.newBuilder()
        .setParentModel(d.path("parent_model").asText(""))
        .setFormat(d.path("format").asText(""))
        .setFamily(d.path("family").asText(""))
        .setParameterSize(d.path("parameter_size").asText(""))
        .setQuantizationLevel(d.path("quantization_level").asText(""));
    d.path("families").forEach(f -> db.addFamilies(f.asText()));
    return ModelEntry.newBuilder()
        .setName(m.path("name").asText(""))
        .setModel(m.path("model").asText(m.path("name").asText("")))
        .setModifiedAt(m.path("modified_at").asText(""))
        .setSize(m.path("size").asLong())
        .setDigest(m.path("digest").asText(""))
        .setDetails(db)
        .setSizeVram(m.path("size_vram").asLong())
        .setExpiresAt(m.path("expires_at").asText(""))
        .setContextLength(m.path("context_length").asLong())
        .setUpstream(m.path("upstream").asText(""))
        .build();
  }

  // ------------------------------------------------------------ proto -> Ollama JSON

  public static ObjectNode chatBody(ChatRequest r) {
    ObjectNode b = OllamaJson.object();
    b.put("model", r.getModel());
    ArrayNode msgs = b.putArray("messages");
    for (Message m : r.getMessagesList()) {
      ObjectNode o = msgs.addObject();
      o.put("role", m.getRole());
      o.put("content", m.getContent());
      if (!m.getThinking().isEmpty()) {
        o.put("thinking", m.getThinking());
      }
      if (!m.getToolName().isEmpty()) {
        o.put("tool_name", m.getToolName());
      }
      if (m.getImagesCount() > 0) {
        ArrayNode imgs = o.putArray("images");
        m.getImagesList().forEach(i -> imgs.add(Base64.getEncoder().encodeToString(i.toByteArray())));
      }
      if (m.getToolCallsCount() > 0) {
        o.set("tool_calls", toolCallsJson(m.getToolCallsList()));
      }
    }
    putJson(b, "tools", r.getToolsJson());
    putJson(b, "format", r.getFormatJson());
    putJson(b, "options", r.getOptionsJson());
    if (r.hasThink()) {
      b.put("think", r.getThink());
    }
    return b;
  }

  public static ObjectNode generateBody(GenerateRequest r) {
    ObjectNode b = OllamaJson.object();
    b.put("model", r.getModel());
    b.put("prompt", r.getPrompt());
    if (!r.getSuffix().isEmpty()) b.put("suffix", r.getSuffix());
    if (!r.getSystem().isEmpty()) b.put("system", r.getSystem());
    if (!r.getTemplate().isEmpty()) b.put("template", r.getTemplate());
    if (r.getRaw()) b.put("raw", true);
    if (r.getImagesCount() > 0) {
      ArrayNode imgs = b.putArray("images");
      r.getImagesList().forEach(i -> imgs.add(Base64.getEncoder().encodeToString(i.toByteArray())));
    }
    putJson(b, "format", r.getFormatJson());
    putJson(b, "options", r.getOptionsJson());
    if (r.hasThink()) {
      b.put("think", r.getThink());
    }
    return b;
  }

  private static void putJson(ObjectNode b, String field, String json) {
    JsonNode n = parse(json);
    if (n != null) {
      b.set(field, n);
    }
  }

  public static ArrayNode toolCallsJson(java.util.List<ToolCall> calls) {
    ArrayNode arr = OllamaJson.MAPPER.createArrayNode();
    for (ToolCall tc : calls) {
      ObjectNode o = arr.addObject();
      if (!tc.getId().isEmpty()) {
        o.put("id", tc.getId());
      }
      ObjectNode f = o.putObject("function");
      f.put("name", tc.getName());
      JsonNode args = parse(tc.getArgumentsJson());
      f.set("arguments", args == null ? OllamaJson.object() : args);
    }
    return arr;
  }

  /** A proto chunk back to Ollama's chat or generate chunk. */
  public static ObjectNode ollamaChunk(GenerateChunk c, boolean chat) {
    ObjectNode o = OllamaJson.object();
    o.put("model", c.getModel());
    o.put("created_at", c.getCreatedAt());
    if (chat) {
      ObjectNode m = o.putObject("message");
      m.put("role", "assistant");
      m.put("content", c.getContent());
      if (!c.getThinking().isEmpty()) {
        m.put("thinking", c.getThinking());
      }
      if (c.getToolCallsCount() > 0) {
        m.set("tool_calls", toolCallsJson(c.getToolCallsList()));
      }
    } else {
      o.put("response", c.getContent());
      if (!c.getThinking().isEmpty()) {
        o.put("thinking", c.getThinking());
      }
    }
    o.put("done", c.getDone());
    if (c.getDone()) {
      if (!c.getDoneReason().isEmpty()) {
        o.put("done_reason", c.getDoneReason());
      }
      if (c.getContextCount() > 0) {
        ArrayNode ctx = o.putArray("context");
        c.getContextList().forEach(ctx::add);
      }
      Statistics s = c.getStatistics();
      o.put("total_duration", s.getTotalDuration());
      o.put("load_duration", s.getLoadDuration());
      o.put("prompt_eval_count", s.getPromptEvalCount());
      o.put("prompt_eval_duration", s.getPromptEvalDuration());
      o.put("eval_count", s.getEvalCount());
      o.put("eval_duration", s.getEvalDuration());
    }
    return o;
  }

  public static ObjectNode modelJson(ModelEntry m, boolean running) {
    ObjectNode o = OllamaJson.object();
    o.put("name", m.getName());
    o.put("model", m.getModel());
    if (!running) {
      o.put("modified_at", m.getModifiedAt());
    }
    o.put("size", m.getSize());
    o.put("digest", m.getDigest());
    ObjectNode d = o.putObject("details");
    ModelDetails md = m.getDetails();
    d.put("parent_model", md.getParentModel());
    d.put("format", md.getFormat());
    d.put("family", md.getFamily());
    ArrayNode fams = d.putArray("families");
    md.getFamiliesList().forEach(fams::add);
    d.put("parameter_size", md.getParameterSize());
    d.put("quantization_level", md.getQuantizationLevel());
    if (running) {
      o.put("expires_at", m.getExpiresAt());
      o.put("size_vram", m.getSizeVram());
      o.put("context_length", m.getContextLength());
    }
    return o;
  }

  // ------------------------------------------------------------ errors

  /** An upstream failure as a gRPC status carrying the same human line. */
  public static Status status(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && (c instanceof java.util.concurrent.CompletionException
        || c instanceof java.util.concurrent.ExecutionException)) {
      c = c.getCause();
    }
    if (c instanceof BadRequest) {
      return Status.INVALID_ARGUMENT.withDescription(c.getMessage());
    }
    if (c instanceof io.grpc.StatusRuntimeException sre) {
      return sre.getStatus();
    }
    UpstreamException u = UpstreamException.of("upstream", c);
    Status s = switch (u.status()) {
      case 400, 422 -> Status.INVALID_ARGUMENT;
      case 401, 403 -> Status.PERMISSION_DENIED;
      case 404 -> Status.NOT_FOUND;
      case 413 -> Status.OUT_OF_RANGE;
      case 429 -> Status.RESOURCE_EXHAUSTED;
      case 503, 0 -> Status.UNAVAILABLE;
      case 504 -> Status.DEADLINE_EXCEEDED;
      default -> Status.INTERNAL;
    };
    return s.withDescription(u.getMessage());
  }

  /** A gRPC status back to the HTTP status an API would answer. */
  public static int httpStatus(Status s) {
    return switch (s.getCode()) {
      case INVALID_ARGUMENT -> 400;
      case UNAUTHENTICATED -> 401;
      case PERMISSION_DENIED -> 403;
      case NOT_FOUND -> 404;
      case OUT_OF_RANGE -> 413;
      case RESOURCE_EXHAUSTED -> 429;
      case UNAVAILABLE -> 503;
      case DEADLINE_EXCEEDED -> 504;
      case CANCELLED -> 499;
      default -> 500;
    };
  }
}
