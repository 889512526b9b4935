package dev.thunderlink.inference;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two upstreams routed by model: an Ollama (the simulator, native API) and an OpenAI-compatible
 * server. The OpenAI-compatible server is a second thunderlink pair's OpenAI front (the one the
 * official openai client is tested against) over its own simulator.
 */
class UpstreamRoutingTest {
  static final ObjectMapper JSON = new ObjectMapper();
  final HttpClient http = HttpClient.newHttpClient();
  OllamaSimulator ollamaSim;
  InferenceHost remoteHost;
  Server remoteLink;
  ManagedChannel remoteChannel;
  InferenceWorkstation openAiServer;
  InferenceHost host;
  URI front;

  @BeforeEach
  void start() throws Exception {
    remoteHost = InferenceHost.start(InferenceHostConfig.builder().noLocalFront()
        .simulator(SimulatorConfig.builder().timeScale(1000).defaultResponseTokens(5)
            .model(SimulatedModel.of("remote:7b", 4_000_000_000L)).build()).build());
    remoteLink = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(remoteHost.linkService()).build().start();
    remoteChannel = NettyChannelBuilder.forAddress("127.0.0.1", remoteLink.getPort()).usePlaintext().build();
    openAiServer = InferenceWorkstation.start(FrontConfig.builder().port(0).build(), remoteChannel);
    ollamaSim = OllamaSimulator.start(SimulatorConfig.builder().timeScale(1000).defaultResponseTokens(5)
        .model(SimulatedModel.of("coder:32b", 20_000_000_000L)).build());
    host = InferenceHost.start(InferenceHostConfig.builder()
        .upstream(new UpstreamConfig("mini-ollama", ollamaSim.baseUri(), UpstreamConfig.Kind.OLLAMA, 1))
        .upstream(new UpstreamConfig("lmstudio", URI.create("http://127.0.0.1:" + openAiServer.address().getPort()),
            UpstreamConfig.Kind.OPENAI, 2, java.util.Map.of("remote:7b", 4_000_000_000L)))
        .localFront(FrontConfig.builder().port(0).build()).build());
    front = URI.create("http://127.0.0.1:" + host.localFrontAddress().orElseThrow().getPort());
  }

  @AfterEach
  void stop() {
    host.close();
    ollamaSim.close();
    openAiServer.close();
    remoteChannel.shutdownNow();
    remoteLink.shutdownNow();
    remoteHost.close();
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(front.resolve(path)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void eachModelGoesToItsUpstream() throws Exception {
    JsonNode tags = JSON.readTree(http.send(HttpRequest.newBuilder(front.resolve("/api/tags")).build(),
        HttpResponse.BodyHandlers.ofString()).body());
    List<String> names = new ArrayList<>();
    tags.path("models").forEach(m -> names.add(m.path("name").asText()));
    assertThat(names).containsExactlyInAnyOrder("coder:32b", "remote:7b");

    JsonNode a = JSON.readTree(post("/api/chat", "{\"model\":\"coder:32b\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").body());
    assertThat(a.path("message").path("content").asText()).isEqualTo("This is a simulated reply");
    assertThat(ollamaSim.counters().completed()).isEqualTo(1);

    String stream = post("/api/chat", "{\"model\":\"remote:7b\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").body();
    List<JsonNode> lines = new ArrayList<>();
    for (String l : stream.split("\n")) lines.add(JSON.readTree(l));
    StringBuilder text = new StringBuilder();
    lines.forEach(l -> text.append(l.path("message").path("content").asText()));
    assertThat(text.toString()).isEqualTo("This is a simulated reply");
    JsonNode last = lines.get(lines.size() - 1);
    assertThat(last.path("done").asBoolean()).isTrue();
    assertThat(last.path("eval_count").asInt()).isEqualTo(5);
    assertThat(last.path("prompt_eval_count").asInt()).isPositive();
    assertThat(remoteHost.simulator().orElseThrow().counters().completed()).isEqualTo(1);
    assertThat(ollamaSim.counters().completed()).isEqualTo(1);
    // /v1/models lists no sizes: the configured one is what the scheduler's budget counts
    assertThat(tags.path("models").findValues("size").stream().map(JsonNode::asLong).toList())
        .containsExactlyInAnyOrder(20_000_000_000L, 4_000_000_000L);
    Await.until(java.time.Duration.ofSeconds(5), "remote:7b counted with its configured size",
        () -> host.schedulerStatus().getLoadedList().stream()
            .anyMatch(m -> m.getName().equals("remote:7b") && m.getSizeBytes() == 4_000_000_000L));
  }

  @Test
  void aConfiguredModelSizeBelowOneByteIsRefusedWithTheKey() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new UpstreamConfig("lmstudio",
            URI.create("http://127.0.0.1:1234"), UpstreamConfig.Kind.OPENAI, 1, java.util.Map.of("m:7b", 0L)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("modelSizes.m:7b: 0 (expected: >= 1 byte)");
  }

  @Test
  void openAiCompatibleUpstreamCarriesToolCallsCompletionsAndEmbeddings() throws Exception {
    JsonNode t = JSON.readTree(post("/api/chat", "{\"model\":\"remote:7b\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}],"
        + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}]}").body());
    assertThat(t.path("message").path("tool_calls").get(0).path("function").path("arguments").path("city").asText())
        .isEqualTo("simulated");
    JsonNode g = JSON.readTree(post("/api/generate", "{\"model\":\"remote:7b\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":2}}").body());
    assertThat(g.path("response").asText()).isEqualTo("This is");
    assertThat(g.path("done_reason").asText()).isEqualTo("length");
    JsonNode e = JSON.readTree(post("/api/embed", "{\"model\":\"remote:7b\",\"input\":\"hello\"}").body());
    assertThat(e.path("embeddings").get(0).size()).isPositive();
    HttpResponse<String> pull = post("/api/pull", "{\"model\":\"remote:7b\",\"stream\":false}");
    assertThat(pull.statusCode()).isEqualTo(500);
  }
}
