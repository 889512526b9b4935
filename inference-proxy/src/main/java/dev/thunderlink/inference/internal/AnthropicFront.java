package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.proto.inference.ChatRequest;
import dev.thunderlink.proto.inference.GenerateChunk;
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
 * Anthropic's Messages API on the front ({@code /v1/messages}, {@code /v1/messages/count_tokens})
 * for Claude Code and the Anthropic SDKs: system prompts, tool use and tool results, and the SSE
 * event sequence {@code message_start}, {@code content_block_start/delta/stop},
 * {@code message_delta}, {@code message_stop}, {@code ping}; a failure after the stream started
 * arrives as an {@code error} event. {@code anthropic-version} and {@code anthropic-beta}
 * headers are accepted and ignored. Any thread.
 */
final class AnthropicFront {
  private static final Logger log = LoggerFactory.getLogger(AnthropicFront.class);
  private static final ApiDialect D = ApiDialect.ANTHROPIC;

  private final InferenceClient client;
  private final Priority priority;

  AnthropicFront(InferenceClient client, Priority priority) {
    this.client = client;
    this.priority = priority;
  }

  boolean handle(HttpExchange ex, String method, String path, JsonNode body) {
    if (!path.equals("/v1/messages") && !path.equals("/v1/messages/count_tokens")) {
      return false;
    }
    if (!method.equals("POST")) {
      ex.json(405, D.error(405, "method not allowed"));
      return true;
    }
    try {
      if (body.path("model").asText("").isBlank()) {
        throw new ProtoOllama.BadRequest("model: field required");
      }
      if (!body.path("messages").isArray()) {
        throw new ProtoOllama.BadRequest("messages: field required (expected: an array)");
      }
      ChatRequest req = request(body);
      if (path.endsWith("/count_tokens")) {
        ObjectNode o = OllamaJson.object();
        o.put("input_tokens", estimateTokens(req));
        ex.json(200, o);
        return true;
      }
      if (!body.has("max_tokens")) {
        throw new ProtoOllama.BadRequest("max_tokens: field required");
      }
      Sink sink = new Sink(ex, body.path("stream").asBoolean(false), body.path("model").asText(),
          estimateTokens(req));
      InferenceClient.Cancellable call = client.chat(req, sink);
      ex.onClose(() -> {
        log.info("client left /v1/messages; cancelling");
        call.cancel("client disconnected");
      });
    } catch (ProtoOllama.BadRequest e) {
      ex.json(400, D.error(400, e.getMessage()));
    }
    return true;
  }

  /**
   * An estimate (about four characters per token): the upstream's tokenizer is not reachable
   * without running the model.
   */
  /**
   * An ESTIMATE, not the model's tokenizer: a quarter of the characters of the messages
   * (system included), tool calls and tool definitions, plus one token per message. Used for
   * {@code /v1/messages/count_tokens} and {@code message_start}'s {@code input_tokens}; the
   * upstream's real count ({@code prompt_eval_count}) replaces it in {@code message_delta}.
   * Ollama has no tokenize endpoint to ask, so an exact figure would need the model's own
   * tokenizer here.
   */
  static long estimateTokens(ChatRequest r) {
    long chars = r.getToolsJson().length();
    for (Message m : r.getMessagesList()) {
      chars += m.getContent().length() + 4;
      for (ToolCall tc : m.getToolCallsList()) {
        chars += tc.getName().length() + tc.getArgumentsJson().length();
      }
    }
    return Math.max(1, chars / 4);
  }

  private static String blocksText(JsonNode content) {
    if (content.isTextual()) {
      return content.asText();
    }
    StringBuilder sb = new StringBuilder();
    for (JsonNode b : content) {
      if (b.path("type").asText().equals("text")) {
        if (sb.length() > 0) {
          sb.append('\n');
        }
        sb.append(b.path("text").asText());
      }
    }
    return sb.toString();
  }

  ChatRequest request(JsonNode b) {
    ChatRequest.Builder r = ChatRequest.newBuilder().setModel(b.path("model").asText())
        .setPriority(priority);
    JsonNode system = b.path("system");
    if (!system.isMissingNode() && !system.isNull()) {
      r.addMessages(Message.newBuilder().setRole("system").setContent(blocksText(system)));
    }
    for (JsonNode m : b.path("messages")) {
      String role = m.path("role").asText();
      if (!role.equals("user") && !role.equals("assistant")) {
        throw new ProtoOllama.BadRequest("messages: role \"" + role + "\" (expected: user or assistant)");
      }
      JsonNode content = m.path("content");
      if (content.isTextual()) {
        r.addMessages(Message.newBuilder().setRole(role).setContent(content.asText()));
        continue;
      }
      Message.Builder main = Message.newBuilder().setRole(role);
      StringBuilder text = new StringBuilder();
      List<Message> toolResults = new ArrayList<>();
      for (JsonNode block : content) {
        switch (block.path("type").asText()) {
          case "text" -> text.append(text.length() > 0 ? "\n" : "").append(block.path("text").asText());
          case "image" -> {
            JsonNode src = block.path("source");
            if (src.path("type").asText().equals("base64")) {
              main.addImages(com.google.protobuf.ByteString.copyFrom(
                  java.util.Base64.getDecoder().decode(src.path("data").asText())));
            }
          }
          case "tool_use" -> main.addToolCalls(ToolCall.newBuilder()
              .setId(block.path("id").asText()).setName(block.path("name").asText())
              .setArgumentsJson(block.path("input").toString()));
          case "tool_result" -> toolResults.add(Message.newBuilder().setRole("tool")
              .setContent(blocksText(block.path("content")))
              .setToolName(block.path("tool_use_id").asText()).build());
          default -> { } // thinking, documents, cache_control: nothing the upstream can use
        }
      }
      r.addAllMessages(toolResults);
      if (text.length() > 0 || main.getToolCallsCount() > 0 || main.getImagesCount() > 0) {
        r.addMessages(main.setContent(text.toString()));
      }
    }
    if (b.path("tools").isArray() && b.path("tools").size() > 0) {
      ArrayNode tools = OllamaJson.MAPPER.createArrayNode();
      for (JsonNode t : b.path("tools")) {
        ObjectNode f = tools.addObject();
        f.put("type", "function");
        ObjectNode fn = f.putObject("function");
        fn.put("name", t.path("name").asText());
        fn.put("description", t.path("description").asText(""));
        fn.set("parameters", t.path("input_schema").isMissingNode() ? OllamaJson.object() : t.get("input_schema"));
      }
      r.setToolsJson(tools.toString());
    }
    ObjectNode opts = OllamaJson.object();
    if (b.has("max_tokens")) opts.set("num_predict", b.get("max_tokens"));
    if (b.has("temperature")) opts.set("temperature", b.get("temperature"));
    if (b.has("top_p")) opts.set("top_p", b.get("top_p"));
    if (b.has("top_k")) opts.set("top_k", b.get("top_k"));
    if (b.path("stop_sequences").isArray()) opts.set("stop", b.get("stop_sequences"));
    r.setOptionsJson(opts.toString());
    return r.build();
  }

  /** Chunks to a Messages response, as SSE events or one object. */
  private static final class Sink implements InferenceClient.Sink<GenerateChunk> {
    private final HttpExchange ex;
    private final boolean stream;
    private final String model;
    private final long inputEstimate;
    private final String id = "msg_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    private final StringBuilder text = new StringBuilder();
    private final List<ToolCall> toolCalls = new ArrayList<>();
    private int blockIndex = -1;
    private boolean textOpen;
    private long outputTokens;

    Sink(HttpExchange ex, boolean stream, String model, long inputEstimate) {
      this.ex = ex;
      this.stream = stream;
      this.model = model;
      this.inputEstimate = inputEstimate;
    }

    private void event(String name, ObjectNode data, Runnable next) {
      String s = "event: " + name + "\ndata: " + data + "\n\n";
      if (next == null) {
        ex.write(s);
      } else {
        ex.write(s, next);
      }
    }

    private static ObjectNode type(String t) {
      ObjectNode o = OllamaJson.object();
      o.put("type", t);
      return o;
    }

    private ObjectNode message(long in, long out) {
      ObjectNode m = OllamaJson.object();
      m.put("id", id);
      m.put("type", "message");
      m.put("role", "assistant");
      m.put("model", model);
      m.putArray("content");
      m.putNull("stop_reason");
      m.putNull("stop_sequence");
      ObjectNode u = m.putObject("usage");
      u.put("input_tokens", in);
      u.put("output_tokens", out);
      return m;
    }

    private static String stopReason(GenerateChunk c, boolean tools) {
      if (tools) {
        return "tool_use";
      }
      return c.getDoneReason().equals("length") ? "max_tokens" : "end_turn";
    }

    private static String toolId(ToolCall tc) {
      return tc.getId().isEmpty() ? "toolu_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24) : tc.getId();
    }

    @Override
    public void onMessage(GenerateChunk c, Runnable next) {
      if (!stream) {
        text.append(c.getContent());
        toolCalls.addAll(c.getToolCallsList());
        if (c.getDone()) {
          ObjectNode m = message(c.getStatistics().getPromptEvalCount(), c.getStatistics().getEvalCount());
          ArrayNode content = (ArrayNode) m.get("content");
          if (text.length() > 0) {
            ObjectNode t = content.addObject();
            t.put("type", "text");
            t.put("text", text.toString());
          }
          for (ToolCall tc : toolCalls) {
            ObjectNode t = content.addObject();
            t.put("type", "tool_use");
            t.put("id", toolId(tc));
            t.put("name", tc.getName());
            t.set("input", parse(tc.getArgumentsJson()));
          }
          m.put("stop_reason", stopReason(c, !toolCalls.isEmpty()));
          ex.json(200, m);
        }
        next.run();
        return;
      }
      if (!ex.isStarted()) {
        ex.start("text/event-stream");
        ObjectNode start = type("message_start");
        start.set("message", message(inputEstimate, 1));
        event("message_start", start, null);
        event("ping", type("ping"), null);
      }
      if (!c.getContent().isEmpty()) {
        if (!textOpen) {
          blockIndex++;
          textOpen = true;
          ObjectNode s = type("content_block_start");
          s.put("index", blockIndex);
          ObjectNode cb = s.putObject("content_block");
          cb.put("type", "text");
          cb.put("text", "");
          event("content_block_start", s, null);
        }
        ObjectNode d = type("content_block_delta");
        d.put("index", blockIndex);
        ObjectNode delta = d.putObject("delta");
        delta.put("type", "text_delta");
        delta.put("text", c.getContent());
        event("content_block_delta", d, null);
      }
      for (ToolCall tc : c.getToolCallsList()) {
        closeText();
        toolCalls.add(tc);
        blockIndex++;
        ObjectNode s = type("content_block_start");
        s.put("index", blockIndex);
        ObjectNode cb = s.putObject("content_block");
        cb.put("type", "tool_use");
        cb.put("id", toolId(tc));
        cb.put("name", tc.getName());
        cb.putObject("input");
        event("content_block_start", s, null);
        ObjectNode d = type("content_block_delta");
        d.put("index", blockIndex);
        ObjectNode delta = d.putObject("delta");
        delta.put("type", "input_json_delta");
        delta.put("partial_json", tc.getArgumentsJson().isEmpty() ? "{}" : tc.getArgumentsJson());
        event("content_block_delta", d, null);
        ObjectNode stop = type("content_block_stop");
        stop.put("index", blockIndex);
        event("content_block_stop", stop, null);
      }
      if (c.getDone()) {
        closeText();
        outputTokens = c.getStatistics().getEvalCount();
        ObjectNode md = type("message_delta");
        ObjectNode delta = md.putObject("delta");
        delta.put("stop_reason", stopReason(c, !toolCalls.isEmpty()));
        delta.putNull("stop_sequence");
        ObjectNode u = md.putObject("usage");
        u.put("input_tokens", c.getStatistics().getPromptEvalCount());
        u.put("output_tokens", outputTokens);
        event("message_delta", md, null);
        event("message_stop", type("message_stop"), next);
        return;
      }
      // Flush point: ask for the next chunk once this one is on its way.
      ex.write("", next);
    }

    private void closeText() {
      if (textOpen) {
        textOpen = false;
        ObjectNode stop = type("content_block_stop");
        stop.put("index", blockIndex);
        event("content_block_stop", stop, null);
      }
    }

    private static JsonNode parse(String json) {
      try {
        return json.isEmpty() ? OllamaJson.object() : OllamaJson.MAPPER.readTree(json);
      } catch (java.io.IOException e) {
        return OllamaJson.object();
      }
    }

    @Override
    public void onError(Status s) {
      String msg = s.getDescription() == null ? s.getCode().toString() : s.getDescription();
      int http = ProtoOllama.httpStatus(s);
      if (ex.isStarted()) {
        event("error", D.error(http, msg), null);
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
}
