package dev.thunderlink.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thunderlink.proto.inference.ChatRequest;
import dev.thunderlink.proto.inference.GenerateChunk;
import dev.thunderlink.proto.inference.InferenceGrpc;
import dev.thunderlink.proto.inference.Message;
import dev.thunderlink.proto.inference.SchedulerStatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole path on loopback: HTTP client → workstation front → gRPC (grpc-netty) → host
 * service → scheduler → simulator, and back.
 */
class InferencePairTest {
  static final ObjectMapper JSON = new ObjectMapper();
  final HttpClient http = HttpClient.newHttpClient();
  InferenceHost host;
  Server link;
  ManagedChannel channel;
  InferenceWorkstation ws;
  URI base;

  static SimulatorConfig.Builder sim() {
    return SimulatorConfig.builder().timeScale(1000).memoryLimitBytes(48_000_000_000L)
        .model(SimulatedModel.of("coder:32b", 20_000_000_000L))
        .model(SimulatedModel.of("big:70b", 40_000_000_000L))
        .model(new SimulatedModel("embed:latest", 300_000_000L, "bert", "137M", "F16", 2048, 8, false))
        .defaultResponseTokens(6);
  }

  void start(SimulatorConfig.Builder s, FrontConfig.Builder front) throws Exception {
    host = InferenceHost.start(InferenceHostConfig.builder().simulator(s.build())
        .scheduler(SchedulerConfig.builder().linger(Duration.ZERO).build())
        .idleTimeout(Duration.ofSeconds(5))
        .localFront(FrontConfig.builder().port(0).interactive(false).build()).build());
    link = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(host.linkService()).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", link.getPort()).usePlaintext().build();
    ws = InferenceWorkstation.start(front.port(0).build(), channel);
    base = URI.create("http://127.0.0.1:" + ws.address().getPort());
  }

  @BeforeEach
  void setUp() throws Exception {
    start(sim(), FrontConfig.builder());
  }

  @AfterEach
  void tearDown() {
    if (ws != null) ws.close();
    if (channel != null) channel.shutdownNow();
    if (link != null) link.shutdownNow();
    if (host != null) host.close();
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return post(base, path, body);
  }

  HttpResponse<String> post(URI b, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(b.resolve(path)).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static List<JsonNode> ndjson(String body) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String l : body.split("\n")) {
      if (!l.isBlank()) out.add(JSON.readTree(l));
    }
    return out;
  }

  /** SSE events as [event name or "", data]. */
  static List<String[]> sse(String body) {
    List<String[]> out = new ArrayList<>();
    for (String block : body.split("\n\n")) {
      String event = "";
      StringBuilder data = new StringBuilder();
      for (String l : block.split("\n")) {
        if (l.startsWith("event: ")) event = l.substring(7);
        if (l.startsWith("data: ")) data.append(l.substring(6));
      }
      if (data.length() > 0) out.add(new String[] {event, data.toString()});
    }
    return out;
  }

  ModelSchedulerStatus status() {
    return new ModelSchedulerStatus(InferenceGrpc.newBlockingStub(channel)
        .schedulerStatus(SchedulerStatusRequest.getDefaultInstance()));
  }

  record ModelSchedulerStatus(dev.thunderlink.proto.inference.SchedulerStatusResponse r) {
    int queued() {
      return r.getQueuesList().stream().mapToInt(q -> q.getWaiting()).sum();
    }

    int inFlight() {
      return r.getLoadedList().stream().mapToInt(l -> l.getInFlight()).sum();
    }
  }

  // ------------------------------------------------------------------ Ollama

  @Test
  void ollamaChatStreamsThroughThePairWithStatistics() throws Exception {
    HttpResponse<String> r = post("/api/chat", "{\"model\":\"coder:32b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/x-ndjson");
    List<JsonNode> lines = ndjson(r.body());
    assertThat(lines).hasSize(7);
    assertThat(lines.get(0).path("message").path("content").asText()).isEqualTo("This");
    JsonNode last = lines.get(6);
    assertThat(last.path("done").asBoolean()).isTrue();
    assertThat(last.path("done_reason").asText()).isEqualTo("stop");
    assertThat(last.path("eval_count").asInt()).isEqualTo(6);
    assertThat(last.path("load_duration").asLong()).isGreaterThan(20_000_000_000L);
    for (String f : List.of("total_duration", "prompt_eval_count", "prompt_eval_duration", "eval_duration")) {
      assertThat(last.path(f).asLong()).as(f).isPositive();
    }
  }

  @Test
  void ollamaNonStreamingGenerateEmbedShowTagsPsVersionPull() throws Exception {
    JsonNode g = JSON.readTree(post("/api/generate", "{\"model\":\"coder:32b\",\"prompt\":\"hi\",\"stream\":false}").body());
    assertThat(g.path("response").asText()).isEqualTo("This is a simulated reply from");
    assertThat(g.path("context").size()).isPositive();
    JsonNode c = JSON.readTree(post("/api/chat", "{\"model\":\"coder\\u003a32b\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").body());
    assertThat(c.path("message").path("content").asText()).startsWith("This is");
    JsonNode e = JSON.readTree(post("/api/embed", "{\"model\":\"embed\",\"input\":[\"a\",\"b\"]}").body());
    assertThat(e.path("embeddings")).hasSize(2);
    assertThat(e.path("embeddings").get(0)).hasSize(8);
    JsonNode show = JSON.readTree(post("/api/show", "{\"model\":\"coder:32b\"}").body());
    assertThat(show.path("details").path("format").asText()).isEqualTo("gguf");
    JsonNode tags = JSON.readTree(get("/api/tags").body());
    assertThat(tags.path("models")).hasSize(3);
    JsonNode ps = JSON.readTree(get("/api/ps").body());
    assertThat(ps.path("models").size()).isPositive();
    JsonNode v = JSON.readTree(get("/api/version").body());
    assertThat(v.path("simulator").asText()).isEqualTo("thunderlink-ollama-simulator");
    List<JsonNode> pull = ndjson(post("/api/pull", "{\"model\":\"coder:32b\"}").body());
    assertThat(pull.get(pull.size() - 1).path("status").asText()).isEqualTo("success");
    assertThat(get("/").body()).contains("Ollama is running");
  }

  @Test
  void hostLocalFrontServesAgentsAsBatch() throws Exception {
    URI local = URI.create("http://127.0.0.1:" + host.localFrontAddress().orElseThrow().getPort());
    HttpResponse<String> r = post(local, "/api/chat", "{\"model\":\"coder:32b\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    post("/api/chat", "{\"model\":\"coder:32b\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    var waits = host.schedulerStatus().getWaitsList();
    assertThat(waits).anySatisfy(w -> {
      assertThat(w.getPriority()).isEqualTo(dev.thunderlink.proto.inference.Priority.PRIORITY_BATCH);
      assertThat(w.getCount()).isEqualTo(1);
    });
    assertThat(waits).anySatisfy(w -> {
      assertThat(w.getPriority()).isEqualTo(dev.thunderlink.proto.inference.Priority.PRIORITY_INTERACTIVE);
      assertThat(w.getCount()).isEqualTo(1);
    });
    String table = ModelsReport.render(ModelsReport.fetch(channel), false);
    assertThat(table).contains("coder:32b").contains("loads 1");
    JsonNode json = JSON.readTree(ModelsReport.render(ModelsReport.fetch(channel), true));
    assertThat(json.path("loaded").get(0).path("name").asText()).isEqualTo("coder:32b");
    assertThat(json.path("waits").path("batch").path("count").asInt()).isEqualTo(1);
  }

  // ------------------------------------------------------------------ OpenAI

  @Test
  void openAiChatStreamsSseWithUsageAndDone() throws Exception {
    HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"coder:32b\",\"stream\":true,"
        + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("text/event-stream");
    List<String[]> events = sse(r.body());
    assertThat(events.get(events.size() - 1)[1]).isEqualTo("[DONE]");
    JsonNode first = JSON.readTree(events.get(0)[1]);
    assertThat(first.path("object").asText()).isEqualTo("chat.completion.chunk");
    assertThat(first.path("choices").get(0).path("delta").path("role").asText()).isEqualTo("assistant");
    JsonNode usage = JSON.readTree(events.get(events.size() - 2)[1]);
    assertThat(usage.path("choices")).isEmpty();
    assertThat(usage.path("usage").path("completion_tokens").asInt()).isEqualTo(6);
    JsonNode fin = JSON.readTree(events.get(events.size() - 3)[1]);
    assertThat(fin.path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
  }

  @Test
  void openAiNonStreamingChatToolsCompletionsModelsEmbeddings() throws Exception {
    JsonNode c = JSON.readTree(post("/v1/chat/completions", "{\"model\":\"coder:32b\",\"max_tokens\":3,"
        + "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}]}").body());
    assertThat(c.path("object").asText()).isEqualTo("chat.completion");
    assertThat(c.path("choices").get(0).path("message").path("content").asText()).isEqualTo("This is a");
    assertThat(c.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");
    assertThat(c.path("usage").path("total_tokens").asInt()).isGreaterThan(3);
    JsonNode t = JSON.readTree(post("/v1/chat/completions", "{\"model\":\"coder:32b\",\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}],"
        + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}]}").body());
    JsonNode call = t.path("choices").get(0).path("message").path("tool_calls").get(0);
    assertThat(call.path("function").path("name").asText()).isEqualTo("get_weather");
    assertThat(JSON.readTree(call.path("function").path("arguments").asText()).path("city").asText()).isEqualTo("simulated");
    assertThat(t.path("choices").get(0).path("finish_reason").asText()).isEqualTo("tool_calls");
    JsonNode comp = JSON.readTree(post("/v1/completions", "{\"model\":\"coder:32b\",\"prompt\":\"x\"}").body());
    assertThat(comp.path("object").asText()).isEqualTo("text_completion");
    assertThat(comp.path("choices").get(0).path("text").asText()).startsWith("This is");
    JsonNode models = JSON.readTree(get("/v1/models").body());
    assertThat(models.path("data")).hasSize(3);
    assertThat(models.path("data").get(0).path("object").asText()).isEqualTo("model");
    JsonNode emb = JSON.readTree(post("/v1/embeddings", "{\"model\":\"embed\",\"input\":\"hello\"}").body());
    assertThat(emb.path("data").get(0).path("embedding")).hasSize(8);
  }

  // ------------------------------------------------------------------ Anthropic

  @Test
  void anthropicMessagesStreamTheEventSequence() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/v1/messages"))
        .header("anthropic-version", "2023-06-01").header("anthropic-beta", "tools-2024-04-04")
        .header("x-api-key", "ignored")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"coder:32b\",\"max_tokens\":100,\"stream\":true,"
            + "\"system\":[{\"type\":\"text\",\"text\":\"be brief\"}],\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    List<String> names = sse(r.body()).stream().map(e -> e[0]).toList();
    assertThat(names.get(0)).isEqualTo("message_start");
    assertThat(names.get(1)).isEqualTo("ping");
    assertThat(names.get(2)).isEqualTo("content_block_start");
    assertThat(names).contains("content_block_delta");
    assertThat(names.subList(names.size() - 3, names.size()))
        .containsExactly("content_block_stop", "message_delta", "message_stop");
    JsonNode delta = JSON.readTree(sse(r.body()).get(names.size() - 2)[1]);
    assertThat(delta.path("delta").path("stop_reason").asText()).isEqualTo("end_turn");
    assertThat(delta.path("usage").path("output_tokens").asInt()).isPositive();
  }

  @Test
  void anthropicToolUseAndToolResultsAndCountTokens() throws Exception {
    String tools = "\"tools\":[{\"name\":\"get_weather\",\"description\":\"d\",\"input_schema\":{\"type\":\"object\","
        + "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}]";
    JsonNode m = JSON.readTree(post("/v1/messages", "{\"model\":\"coder:32b\",\"max_tokens\":50," + tools
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"weather in Paris?\"}]}").body());
    assertThat(m.path("type").asText()).isEqualTo("message");
    assertThat(m.path("stop_reason").asText()).isEqualTo("tool_use");
    JsonNode use = m.path("content").get(0);
    assertThat(use.path("type").asText()).isEqualTo("tool_use");
    assertThat(use.path("input").path("city").asText()).isEqualTo("simulated");
    // The result goes back; the model answers in text.
    JsonNode answer = JSON.readTree(post("/v1/messages", "{\"model\":\"coder:32b\",\"max_tokens\":50," + tools
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"weather in Paris?\"},"
        + "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"" + use.path("id").asText()
        + "\",\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\"}}]},"
        + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"" + use.path("id").asText()
        + "\",\"content\":\"sunny\"}]}]}").body());
    assertThat(answer.path("stop_reason").asText()).isEqualTo("end_turn");
    assertThat(answer.path("content").get(0).path("type").asText()).isEqualTo("text");
    // streamed tool use
    List<String[]> ev = sse(post("/v1/messages", "{\"model\":\"coder:32b\",\"max_tokens\":50,\"stream\":true," + tools
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}]}").body());
    assertThat(ev).anySatisfy(e -> assertThat(e[1]).contains("\"input_json_delta\""));
    assertThat(ev).anySatisfy(e -> assertThat(e[1]).contains("\"stop_reason\":\"tool_use\""));
    JsonNode count = JSON.readTree(post("/v1/messages/count_tokens", "{\"model\":\"coder:32b\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}").body());
    assertThat(count.path("input_tokens").asInt()).isPositive();
  }

  // ------------------------------------------------------------------ bad input

  @Test
  void malformedJsonGetsEachApisErrorFormat() throws Exception {
    HttpResponse<String> o = post("/api/chat", "{nope");
    assertThat(o.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(o.body()).path("error").asText()).startsWith("invalid JSON");
    HttpResponse<String> ai = post("/v1/chat/completions", "{nope");
    assertThat(ai.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(ai.body()).path("error").path("type").asText()).isEqualTo("invalid_request_error");
    HttpResponse<String> an = post("/v1/messages", "[1,2]");
    assertThat(an.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(an.body()).path("type").asText()).isEqualTo("error");
    assertThat(JSON.readTree(an.body()).path("error").path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(status().queued()).isZero();
  }

  @Test
  void unknownModelIs404InEachFormat() throws Exception {
    HttpResponse<String> o = post("/api/chat", "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(o.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(o.body()).path("error").asText()).isEqualTo("model \"nope\" not found, try pulling it first");
    HttpResponse<String> ai = post("/v1/chat/completions", "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(ai.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(ai.body()).path("error").path("message").asText()).contains("not found");
    HttpResponse<String> an = post("/v1/messages", "{\"model\":\"nope\",\"max_tokens\":5,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(an.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(an.body()).path("error").path("type").asText()).isEqualTo("not_found_error");
    assertThat(status().queued()).isZero();
  }

  @Test
  void oversizedBodyIs413InTheApisFormat() throws Exception {
    tearDown();
    start(sim(), FrontConfig.builder().maxBodyBytes(4096));
    HttpResponse<String> r = post("/v1/messages", "{\"model\":\"coder:32b\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\""
        + "x".repeat(10_000) + "\"}]}");
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(JSON.readTree(r.body()).path("error").path("type").asText()).isEqualTo("request_too_large");
    HttpResponse<String> o = post("/api/generate", "{\"model\":\"coder:32b\",\"prompt\":\"" + "x".repeat(10_000) + "\"}");
    assertThat(o.statusCode()).isEqualTo(413);
    assertThat(JSON.readTree(o.body()).path("error").asText()).contains("too large");
    // a client that first asks whether it may send (Expect: 100-continue, as curl does over
    // 1 MiB) gets the same answer in the API's format, and its connection stays usable
    try (Socket s = new Socket("127.0.0.1", ws.address().getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          + "Content-Length: 5000000\r\nExpect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      assertThat(in.readLine()).isEqualTo("HTTP/1.1 413 Request Entity Too Large");
      int length = -1;
      for (String h; !(h = in.readLine()).isEmpty(); ) {
        if (h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
          length = Integer.parseInt(h.substring(15).trim());
        }
      }
      assertThat(length).isPositive();
      char[] body = new char[length];
      assertThat(in.read(body)).isEqualTo(length);
      assertThat(JSON.readTree(new String(body)).path("error").path("message").asText()).contains("too large").contains("4096");
      out.write("GET /api/version HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
    }
  }

  @Test
  void clientDisconnectMidStreamCancelsUpstreamAndLeavesNothingQueued() throws Exception {
    tearDown();
    start(sim().timeScale(1).defaultResponseTokens(100_000).model(SimulatedModel.of("tiny:1b", 1000)), FrontConfig.builder());
    try (Socket s = new Socket("127.0.0.1", ws.address().getPort())) {
      String body = "{\"model\":\"tiny:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}";
      OutputStream out = s.getOutputStream();
      out.write(("POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
          + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      int tokens = 0;
      String line;
      while ((line = in.readLine()) != null && tokens < 3) {
        if (line.contains("\"content\"")) tokens++;
      }
      assertThat(tokens).isEqualTo(3);
    }
    OllamaSimulator sim = host.simulator().orElseThrow();
    Await.until(Duration.ofSeconds(5), "upstream cancelled", () -> sim.counters().cancelled() == 1);
    Await.until(Duration.ofSeconds(5), "slot freed", () -> status().inFlight() == 0 && status().queued() == 0);
  }

  @Test
  void upstreamClosingMidStreamGivesAnErrorEventNotABrokenConnection() throws Exception {
    tearDown();
    start(sim().timeScale(1).defaultResponseTokens(100_000).model(SimulatedModel.of("tiny:1b", 1000)), FrontConfig.builder());
    HttpRequest req = HttpRequest.newBuilder(base.resolve("/v1/messages")).POST(HttpRequest.BodyPublishers.ofString(
        "{\"model\":\"tiny:1b\",\"max_tokens\":100000,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")).build();
    HttpResponse<java.util.stream.Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
    assertThat(r.statusCode()).isEqualTo(200);
    Iterator<String> lines = r.body().iterator();
    int deltas = 0;
    List<String> rest = new ArrayList<>();
    while (lines.hasNext()) {
      String l = lines.next();
      if (l.equals("event: content_block_delta") && ++deltas == 2) {
        host.simulator().orElseThrow().close(); // the upstream dies mid-stream
      }
      if (deltas >= 2) rest.add(l);
    }
    assertThat(rest).contains("event: error");
    assertThat(rest.stream().filter(l -> l.startsWith("data: {\"type\":\"error\"")).findFirst()).isPresent();
    Await.until(Duration.ofSeconds(5), "nothing stuck", () -> status().inFlight() == 0 && status().queued() == 0);
  }

  @Test
  void upstreamDownIs503InEachFormat() throws Exception {
    post("/api/generate", "{\"model\":\"coder:32b\",\"prompt\":\"x\",\"stream\":false}");
    host.simulator().orElseThrow().close();
    HttpResponse<String> o = post("/api/generate", "{\"model\":\"coder:32b\",\"prompt\":\"x\"}");
    assertThat(o.statusCode()).isEqualTo(503);
    assertThat(JSON.readTree(o.body()).path("error").asText()).contains("upstream");
    HttpResponse<String> an = post("/v1/messages", "{\"model\":\"coder:32b\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(an.statusCode()).isEqualTo(503);
    assertThat(JSON.readTree(an.body()).path("error").path("type").asText()).isEqualTo("overloaded_error");
    HttpResponse<String> tags = get("/api/tags");
    assertThat(tags.statusCode()).isEqualTo(503);
    // a model not seen before: the upstream is unreachable, not the model unknown
    HttpResponse<String> fresh = post("/api/chat", "{\"model\":\"big:70b\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(fresh.statusCode()).isEqualTo(503);
    assertThat(JSON.readTree(fresh.body()).path("error").asText()).contains("refused the connection");
    assertThat(status().queued()).isZero();
    assertThat(status().inFlight()).isZero();
  }

  @Test
  void upstreamErrorStatusIsPassedOn() throws Exception {
    // The simulator refuses a model bigger than its memory with HTTP 500.
    tearDown();
    start(sim().model(SimulatedModel.of("huge:405b", 200_000_000_000L)), FrontConfig.builder());
    HttpResponse<String> r = post("/api/chat", "{\"model\":\"huge:405b\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(JSON.readTree(r.body()).path("error").asText()).contains("more system memory");
    assertThat(status().inFlight()).isZero();
  }

  @Test
  void bearerTokenAndLoopbackChecks() throws Exception {
    tearDown();
    start(sim(), FrontConfig.builder().bearerToken("s3cret"));
    assertThat(get("/api/tags").statusCode()).isEqualTo(401);
    HttpResponse<String> ok = http.send(HttpRequest.newBuilder(base.resolve("/api/tags"))
        .header("Authorization", "Bearer s3cret").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(ok.statusCode()).isEqualTo(200);
    HttpResponse<String> anth = http.send(HttpRequest.newBuilder(base.resolve("/v1/messages/count_tokens"))
        .header("x-api-key", "s3cret").POST(HttpRequest.BodyPublishers.ofString(
            "{\"model\":\"coder:32b\",\"messages\":[]}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(anth.statusCode()).isEqualTo(200);
  }

  @Test
  void portInUseIsAClearError() {
    int taken = ws.address().getPort();
    assertThatThrownBy(() -> InferenceWorkstation.start(FrontConfig.builder().port(taken).build(), channel))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("port " + taken + " on 127.0.0.1 is in use");
  }

  @Test
  void unknownPathIsRelayedToTheUpstreamWhichAnswersItsOwn404() throws Exception {
    for (String path : List.of("/api/nothing", "/v1/nothing")) {
      HttpResponse<String> r = get(path);
      assertThat(r.statusCode()).isEqualTo(404);
      assertThat(r.body()).isEqualTo("404 page not found"); // the simulator's (and Ollama's) own answer
      assertThat(r.headers().firstValue("x-thunderlink-simulator")).isPresent();
    }
    // A path the fronts own, with a method they do not serve, is still the front's 404.
    HttpResponse<String> post = post("/v1/models", "{}");
    assertThat(post.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(post.body()).path("error").path("message").asText()).contains("no such endpoint");
  }

  // ------------------------------------------------------------------ gRPC

  @Test
  void grpcChatStreamsTypedChunksWithFinalStatistics() {
    Iterator<GenerateChunk> it = InferenceGrpc.newBlockingStub(channel).chat(ChatRequest.newBuilder()
        .setModel("coder:32b").addMessages(Message.newBuilder().setRole("user").setContent("hi")).build());
    List<GenerateChunk> chunks = new ArrayList<>();
    it.forEachRemaining(chunks::add);
    assertThat(chunks).hasSize(7);
    GenerateChunk last = chunks.get(6);
    assertThat(last.getDone()).isTrue();
    assertThat(last.getStatistics().getEvalCount()).isEqualTo(6);
    assertThat(last.getStatistics().getLoadDuration()).isPositive();
  }

  @Test
  void aSlowGrpcReaderSlowsTheUpstreamInsteadOfFillingMemory() throws Exception {
    tearDown();
    start(sim().timeScale(1_000_000).defaultResponseTokens(100_000).model(SimulatedModel.of("tiny:1b", 1000)),
        FrontConfig.builder());
    OllamaSimulator sim = host.simulator().orElseThrow();
    java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.atomic.AtomicReference<io.grpc.stub.ClientCallStreamObserver<dev.thunderlink.proto.inference.GenerateRequest>> ref =
        new java.util.concurrent.atomic.AtomicReference<>();
    InferenceGrpc.newStub(channel).generate(dev.thunderlink.proto.inference.GenerateRequest.newBuilder()
        .setModel("tiny:1b").setPrompt("go").setOptionsJson("{\"num_predict\":200000}").build(),
        new io.grpc.stub.ClientResponseObserver<dev.thunderlink.proto.inference.GenerateRequest, GenerateChunk>() {
          @Override
          public void beforeStart(io.grpc.stub.ClientCallStreamObserver<dev.thunderlink.proto.inference.GenerateRequest> r) {
            ref.set(r);
            r.disableAutoRequestWithInitial(1); // read one chunk, then stall
          }

          @Override
          public void onNext(GenerateChunk value) {
            received.incrementAndGet();
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            done.complete(null);
          }
        });
    Await.until(Duration.ofSeconds(5), "first chunk", () -> received.get() == 1);
    // The reader holds still. The simulator could emit all 200000 tokens at once; instead the
    // chain of flow control (gRPC window, the host's isReady, the HTTP client's demand, TCP)
    // must stop it: it reports pausing because its connection is not writable.
    long t0 = System.nanoTime();
    Await.until(Duration.ofSeconds(60), "the simulator pauses for backpressure",
        () -> sim.counters().writePauses() > 0);
    System.out.printf("backpressure reached the simulator after %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    assertThat(sim.counters().completed()).isZero();
    assertThat(received.get()).isEqualTo(1);
    ref.get().cancel("done", null);
    Await.until(Duration.ofSeconds(5), "upstream cancelled", () -> sim.counters().cancelled() == 1);
    Await.until(Duration.ofSeconds(5), "nothing stuck", () -> status().inFlight() == 0);
  }

  @Test
  void workstationControlServiceForwardsToTheHost() throws Exception {
    Server control = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ws.controlService()).build().start();
    ManagedChannel local = NettyChannelBuilder.forAddress("127.0.0.1", control.getPort()).usePlaintext().build();
    try {
      List<GenerateChunk> chunks = new ArrayList<>();
      InferenceGrpc.newBlockingStub(local).chat(ChatRequest.newBuilder().setModel("coder:32b")
          .addMessages(Message.newBuilder().setRole("user").setContent("hi")).build()).forEachRemaining(chunks::add);
      assertThat(chunks.get(chunks.size() - 1).getDone()).isTrue();
      assertThat(InferenceGrpc.newBlockingStub(local).list(dev.thunderlink.proto.inference.ListRequest.getDefaultInstance())
          .getModelsCount()).isEqualTo(3);
      assertThatThrownBy(() -> InferenceGrpc.newBlockingStub(local).chat(ChatRequest.newBuilder().setModel("nope")
          .addMessages(Message.newBuilder().setRole("user").setContent("hi")).build()).forEachRemaining(c -> { }))
          .isInstanceOf(io.grpc.StatusRuntimeException.class).hasMessageContaining("NOT_FOUND");
    } finally {
      local.shutdownNow();
      control.shutdownNow();
    }
  }
}
