package dev.thunderlink.inference;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OllamaSimulatorTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long GB = 1_000_000_000L;
  private final HttpClient http = HttpClient.newHttpClient();
  private OllamaSimulator sim;

  private OllamaSimulator start(SimulatorConfig.Builder b) {
    sim = OllamaSimulator.start(b.build());
    return sim;
  }

  private static SimulatorConfig.Builder twoBigModels() {
    return SimulatorConfig.builder()
        .timeScale(1000)
        .memoryLimitBytes(48 * GB)
        .model(SimulatedModel.of("coder:32b", 20 * GB))
        .model(SimulatedModel.of("big:70b", 40 * GB))
        .model(SimulatedModel.of("small:3b", 2 * GB));
  }

  @AfterEach
  void stop() {
    if (sim != null) {
      sim.close();
    }
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(sim.baseUri().resolve(path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(sim.baseUri().resolve(path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private List<JsonNode> lines(HttpResponse<String> r) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String l : r.body().split("\n")) {
      if (!l.isBlank()) {
        out.add(JSON.readTree(l));
      }
    }
    return out;
  }

  @Test
  void saysItIsASimulator() throws Exception {
    start(twoBigModels());
    HttpResponse<String> r = get("/api/version");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(r.body()).path("simulator").asText()).isEqualTo("thunderlink-ollama-simulator");
    assertThat(JSON.readTree(r.body()).path("version").asText()).matches("\\d+\\.\\d+\\.\\d+");
    assertThat(r.headers().firstValue("X-Thunderlink-Simulator")).isPresent();
    assertThat(get("/").body()).contains("Ollama is running").contains("simulator");
  }

  @Test
  void tagsListTheCatalogueWithOllamaFields() throws Exception {
    start(twoBigModels());
    JsonNode tags = JSON.readTree(get("/api/tags").body());
    assertThat(tags.path("models")).hasSize(3);
    JsonNode m = tags.path("models").get(0);
    assertThat(m.path("name").asText()).isEqualTo("coder:32b");
    assertThat(m.path("size").asLong()).isEqualTo(20 * GB);
    assertThat(m.path("digest").asText()).hasSize(64);
    assertThat(m.path("details").path("format").asText()).isEqualTo("gguf");
    assertThat(m.path("details").path("quantization_level").asText()).isEqualTo("Q4_K_M");
  }

  @Test
  void chatStreamsNdjsonAndEndsWithStatistics() throws Exception {
    start(twoBigModels().defaultResponseTokens(10));
    HttpResponse<String> r = post("/api/chat",
        "{\"model\":\"coder:32b\",\"messages\":[{\"role\":\"user\",\"content\":\"Write a haiku about cables\"}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/x-ndjson");
    List<JsonNode> lines = lines(r);
    assertThat(lines).hasSize(11);
    StringBuilder text = new StringBuilder();
    for (JsonNode l : lines.subList(0, 10)) {
      assertThat(l.path("done").asBoolean()).isFalse();
      assertThat(l.path("message").path("role").asText()).isEqualTo("assistant");
      assertThat(l.path("created_at").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*");
      text.append(l.path("message").path("content").asText());
    }
    assertThat(text.toString()).startsWith("This is a simulated reply");
    JsonNode last = lines.get(10);
    assertThat(last.path("done").asBoolean()).isTrue();
    assertThat(last.path("done_reason").asText()).isEqualTo("stop");
    assertThat(last.path("eval_count").asLong()).isEqualTo(10);
    // 10 tokens at 40 tokens/s
    assertThat(last.path("eval_duration").asLong()).isEqualTo(250_000_000L);
    assertThat(last.path("prompt_eval_count").asLong()).isPositive();
    assertThat(last.path("prompt_eval_duration").asLong()).isPositive();
    // 20 GB at 0.8 GB/s = 25 s simulated; measured through the scaled clock, so allow slack
    assertThat(last.path("load_duration").asLong()).isBetween(24_000_000_000L, 40_000_000_000L);
    assertThat(last.path("total_duration").asLong()).isGreaterThan(last.path("load_duration").asLong());

    // The second request finds the model loaded.
    JsonNode second = lines(post("/api/chat",
        "{\"model\":\"coder:32b\",\"messages\":[{\"role\":\"user\",\"content\":\"again\"}],\"stream\":false}")).get(0);
    assertThat(second.path("load_duration").asLong()).isLessThan(1_000_000_000L);
    assertThat(second.path("message").path("content").asText()).startsWith("This is a simulated");
    assertThat(sim.counters().loads()).isEqualTo(1);
  }

  @Test
  void generateReturnsResponseFieldAndContext() throws Exception {
    start(twoBigModels().defaultResponseTokens(5));
    JsonNode r = JSON.readTree(post("/api/generate",
        "{\"model\":\"small:3b\",\"prompt\":\"Why is the sky blue?\",\"stream\":false,\"options\":{\"num_predict\":3}}").body());
    assertThat(r.path("response").asText()).isEqualTo("This is a");
    assertThat(r.path("done_reason").asText()).isEqualTo("length");
    assertThat(r.path("eval_count").asInt()).isEqualTo(3);
    assertThat(r.path("context").isArray()).isTrue();
  }

  @Test
  void loadingAModelThatDoesNotFitEvictsTheIdleOne() throws Exception {
    start(twoBigModels());
    post("/api/generate", "{\"model\":\"coder:32b\",\"prompt\":\"a\",\"stream\":false}");
    post("/api/generate", "{\"model\":\"small:3b\",\"prompt\":\"a\",\"stream\":false}");
    assertThat(JSON.readTree(get("/api/ps").body()).path("models")).hasSize(2);
    post("/api/generate", "{\"model\":\"big:70b\",\"prompt\":\"a\",\"stream\":false}");
    JsonNode ps = JSON.readTree(get("/api/ps").body()).path("models");
    List<String> names = new ArrayList<>();
    ps.forEach(n -> names.add(n.path("name").asText()));
    // 20 + 2 + 40 > 48: the least recently used (coder) goes, small stays.
    assertThat(names).containsExactlyInAnyOrder("small:3b", "big:70b");
    assertThat(ps.get(0).path("size_vram").asLong()).isPositive();
    assertThat(ps.get(0).path("expires_at").asText()).isNotEmpty();
    OllamaSimulator.Counters c = sim.counters();
    assertThat(c.loads()).isEqualTo(3);
    assertThat(c.evictions()).isEqualTo(1);
    assertThat(c.loadsByModel()).containsEntry("coder:32b", 1L);
  }

  @Test
  void differentNumCtxForcesAReloadAsOllamaDoes() throws Exception {
    start(twoBigModels());
    post("/api/generate", "{\"model\":\"coder:32b\",\"prompt\":\"a\",\"stream\":false,\"options\":{\"num_ctx\":4096}}");
    post("/api/generate", "{\"model\":\"coder:32b\",\"prompt\":\"a\",\"stream\":false,\"options\":{\"num_ctx\":8192,\"temperature\":0.1}}");
    post("/api/generate", "{\"model\":\"coder:32b\",\"prompt\":\"a\",\"stream\":false,\"options\":{\"num_ctx\":8192,\"temperature\":0.9}}");
    assertThat(sim.counters().loads()).isEqualTo(2);
    assertThat(sim.counters().reloads()).isEqualTo(1);
    assertThat(JSON.readTree(get("/api/ps").body()).path("models").get(0).path("context_length").asInt())
        .isEqualTo(8192);
  }

  @Test
  void keepAliveZeroWithoutPromptUnloads() throws Exception {
    start(twoBigModels());
    post("/api/generate", "{\"model\":\"coder:32b\",\"prompt\":\"\",\"stream\":false}");
    assertThat(JSON.readTree(get("/api/ps").body()).path("models")).hasSize(1);
    JsonNode r = JSON.readTree(post("/api/generate", "{\"model\":\"coder:32b\",\"keep_alive\":0}").body());
    assertThat(r.path("done_reason").asText()).isEqualTo("unload");
    assertThat(JSON.readTree(get("/api/ps").body()).path("models")).isEmpty();
    assertThat(sim.counters().unloads()).isEqualTo(1);
  }

  @Test
  void keepAliveExpiryUnloadsAnIdleModel() throws Exception {
    start(twoBigModels());
    post("/api/generate", "{\"model\":\"small:3b\",\"prompt\":\"x\",\"stream\":false,\"keep_alive\":\"10s\"}");
    // 10 s simulated = 10 ms real
    Await.until(Duration.ofSeconds(5), "keep_alive expiry", () -> sim.counters().unloads() == 1);
  }

  @Test
  void parallelSlotsBoundConcurrentRequests() throws Exception {
    start(twoBigModels().numParallel(2).defaultResponseTokens(40));
    List<CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      fs.add(http.sendAsync(HttpRequest.newBuilder(sim.baseUri().resolve("/api/generate"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"small:3b\",\"prompt\":\"p" + i + "\",\"stream\":false}"))
          .build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (var f : fs) {
      assertThat(f.get().statusCode()).isEqualTo(200);
    }
    assertThat(sim.counters().maxConcurrentRequests()).isEqualTo(2);
    assertThat(sim.counters().completed()).isEqualTo(6);
  }

  @Test
  void aClientThatLeavesMidStreamIsCancelledAndFreesItsSlot() throws Exception {
    start(twoBigModels().timeScale(10).defaultResponseTokens(1000)
        .model(SimulatedModel.of("tiny:1b", 1_000_000L)));
    try (Socket s = new Socket(sim.address().getAddress(), sim.address().getPort())) {
      String body = "{\"model\":\"tiny:1b\",\"prompt\":\"go\"}";
      OutputStream out = s.getOutputStream();
      out.write(("POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
          + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      String line;
      int tokens = 0;
      while ((line = in.readLine()) != null) {
        if (line.contains("\"response\"")) {
          tokens++;
          if (tokens == 3) {
            break;
          }
        }
      }
      assertThat(tokens).isEqualTo(3);
    }
    Await.until(Duration.ofSeconds(5), "cancellation", () -> sim.counters().cancelled() == 1);
    // The slot is free: the next request is served.
    JsonNode r = JSON.readTree(post("/api/generate",
        "{\"model\":\"tiny:1b\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":2}}").body());
    assertThat(r.path("done").asBoolean()).isTrue();
  }

  @Test
  void badInputGetsOllamaErrors() throws Exception {
    start(twoBigModels().maxRequestBytes(4096));
    HttpResponse<String> r = post("/api/chat", "{not json");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(r.body()).path("error").asText()).startsWith("invalid JSON");
    r = post("/api/chat", "{\"model\":\"nope\",\"messages\":[]}");
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(r.body()).path("error").asText()).isEqualTo("model \"nope\" not found, try pulling it first");
    r = post("/api/generate", "{\"prompt\":\"x\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(r.body()).path("error").asText()).isEqualTo("model is required");
    r = post("/api/generate", "{\"model\":\"small:3b\",\"prompt\":\"x\",\"keep_alive\":\"soon\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(r.body()).path("error").asText()).contains("keep_alive");
    r = post("/api/generate", "{\"model\":\"small:3b\",\"prompt\":\"" + "x".repeat(5000) + "\"}");
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(get("/api/nothing").statusCode()).isEqualTo(404);
    assertThat(sim.counters().loads()).isZero();
  }

  @Test
  void embedShowAndPull() throws Exception {
    start(twoBigModels());
    JsonNode e = JSON.readTree(post("/api/embed", "{\"model\":\"small:3b\",\"input\":[\"a\",\"b\"]}").body());
    assertThat(e.path("embeddings")).hasSize(2);
    assertThat(e.path("embeddings").get(0)).hasSize(768);
    assertThat(e.path("prompt_eval_count").asInt()).isEqualTo(2);
    JsonNode again = JSON.readTree(post("/api/embed", "{\"model\":\"small:3b\",\"input\":\"a\"}").body());
    assertThat(again.path("embeddings").get(0)).isEqualTo(e.path("embeddings").get(0));

    JsonNode show = JSON.readTree(post("/api/show", "{\"model\":\"coder:32b\"}").body());
    assertThat(show.path("capabilities").toString()).contains("completion");
    assertThat(show.path("model_info").path("general.architecture").asText()).isEqualTo("llama");
    assertThat(show.path("license").asText()).contains("simulator");

    List<JsonNode> pull = lines(post("/api/pull", "{\"model\":\"small:3b\"}"));
    assertThat(pull.get(0).path("status").asText()).isEqualTo("pulling manifest");
    assertThat(pull.get(pull.size() - 1).path("status").asText()).isEqualTo("success");
    assertThat(pull.stream().mapToLong(n -> n.path("completed").asLong()).max().getAsLong()).isEqualTo(2 * GB);
    HttpResponse<String> missing = post("/api/pull", "{\"model\":\"nope:1b\"}");
    assertThat(missing.statusCode()).isEqualTo(500);
  }

  @Test
  void chatWithToolsReturnsAToolCall() throws Exception {
    start(twoBigModels());
    JsonNode r = JSON.readTree(post("/api/chat", """
        {"model":"small:3b","stream":false,"messages":[{"role":"user","content":"weather in Paris?"}],
         "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
         "properties":{"city":{"type":"string"}},"required":["city"]}}}]}""").body());
    JsonNode call = r.path("message").path("tool_calls").get(0).path("function");
    assertThat(call.path("name").asText()).isEqualTo("get_weather");
    assertThat(call.path("arguments").path("city").asText()).isEqualTo("simulated");
  }

  @Test
  void configRejectsBadValues() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> SimulatorConfig.builder().numParallel(0).build())
        .hasMessageContaining("numParallel: 0 (expected: >= 1)")
        .hasMessageContaining("models: [] (expected: at least one model)");
  }
}
