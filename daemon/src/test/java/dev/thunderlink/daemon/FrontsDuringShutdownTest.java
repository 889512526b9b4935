package dev.thunderlink.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.inference.FrontConfig;
import dev.thunderlink.inference.InferenceHost;
import dev.thunderlink.inference.InferenceHostConfig;
import dev.thunderlink.inference.InferenceWorkstation;
import dev.thunderlink.inference.SimulatedModel;
import dev.thunderlink.inference.SimulatorConfig;
import dev.thunderlink.transport.ClientCallGate;
import dev.thunderlink.transport.ServerCallGate;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Token streams while a daemon shuts down, end to end over real sockets: the simulator (a
 * stand-in for a model server), the host's gRPC service behind the link's
 * {@link ServerCallGate}, the workstation's HTTP fronts behind a {@link ClientCallGate}, and
 * a real HTTP client. Whichever side stops, a stream in flight ends with an error line (Ollama
 * NDJSON) or error event (OpenAI and Anthropic SSE) naming the reason, and a new request is
 * answered 503 with it. (The daemons use exactly these gates: {@link HostDaemon#shutdownParticipant}
 * on the link port, {@link WorkstationDaemon#shutdownParticipant} around the fronts' calls.)
 */
@Timeout(30)
class FrontsDuringShutdownTest {
  private static final String HOST_REASON = "thunderlink host is shutting down; retry after it restarts";
  private static final String WS_REASON = "thunderlink workstation is shutting down; retry after it restarts";

  private final HttpClient http = HttpClient.newHttpClient();
  private InferenceHost host;
  private Server link;
  private ManagedChannel channel;
  private final ServerCallGate hostGate = new ServerCallGate(Set.of());
  private final ClientCallGate wsGate = new ClientCallGate();
  private InferenceWorkstation ws;

  @BeforeEach
  void start() throws Exception {
    // SIMULATOR: a small model that loads at once and then streams 40 tokens/s for minutes
    host =
        InferenceHost.start(
            InferenceHostConfig.builder()
                .noLocalFront()
                .simulator(
                    SimulatorConfig.builder()
                        .model(SimulatedModel.of("tiny:1b", 100_000_000L))
                        .loadBytesPerSecond(1e10)
                        .evalTokensPerSecond(40)
                        .numParallel(4) // both streams of a test run at once
                        .defaultResponseTokens(100_000)
                        .build())
                .build());
    link =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .addService(ServerInterceptors.intercept(host.linkService(), hostGate))
            .build()
            .start();
    channel = NettyChannelBuilder.forAddress(InetAddress.getLoopbackAddress().getHostAddress(), link.getPort()).usePlaintext().build();
    ws = InferenceWorkstation.start(FrontConfig.builder().port(0).build(), ClientInterceptors.intercept(channel, wsGate));
  }

  @AfterEach
  void stop() throws Exception {
    if (ws != null) {
      ws.close();
    }
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    link.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    host.close();
  }

  private HttpRequest post(String path, String json) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ws.address().getPort() + path))
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json))
        .build();
  }

  /** Opens a stream and reads up to its first line that contains {@code marker}. */
  private Iterator<String> open(String path, String json, String marker) throws Exception {
    HttpResponse<java.util.stream.Stream<String>> r = http.send(post(path, json), HttpResponse.BodyHandlers.ofLines());
    assertThat(r.statusCode()).isEqualTo(200);
    Iterator<String> lines = r.body().iterator();
    while (true) {
      assertThat(lines.hasNext()).as("stream ended before " + marker).isTrue();
      if (lines.next().contains(marker)) {
        return lines;
      }
    }
  }

  private static List<String> rest(Iterator<String> lines) {
    List<String> out = new ArrayList<>();
    lines.forEachRemaining(out::add);
    return out;
  }

  private static final String GENERATE = "{\"model\":\"tiny:1b\",\"prompt\":\"write a lot\"}";

  @Test
  void aHostShuttingDownEndsAnOllamaStreamWithAnErrorLineAndRefusesNewRequestsWithTheReason() throws Exception {
    Iterator<String> stream = open("/api/generate", GENERATE, "\"response\"");

    hostGate.stopAccepting(HOST_REASON);
    HttpResponse<String> late = http.send(post("/api/generate", GENERATE), HttpResponse.BodyHandlers.ofString());
    assertThat(late.statusCode()).isEqualTo(503);
    assertThat(late.body()).contains(HOST_REASON);
    assertThat(hostGate.cut(HOST_REASON)).hasSize(1);

    List<String> tail = rest(stream); // ends: no hang, no reset
    assertThat(tail).isNotEmpty();
    assertThat(tail.get(tail.size() - 1)).isEqualTo("{\"error\":\"" + HOST_REASON + "\"}");
  }

  @Test
  void theHostsOwnLocalFrontForAgentsOnTheMiniIsGatedTheSameWay() throws Exception {
    ServerCallGate local = new ServerCallGate(Set.of());
    try (InferenceHost h =
        InferenceHost.start(
            InferenceHostConfig.builder()
                .simulator(SimulatorConfig.builder().model(SimulatedModel.of("tiny:1b", 100_000_000L)).loadBytesPerSecond(1e10)
                    .evalTokensPerSecond(40).defaultResponseTokens(100_000).build())
                .localFront(FrontConfig.builder().port(0).interactive(false).build())
                .build(),
            local)) {
      String base = "http://127.0.0.1:" + h.localFrontAddress().orElseThrow().getPort();
      HttpResponse<java.util.stream.Stream<String>> r =
          http.send(HttpRequest.newBuilder(URI.create(base + "/api/generate")).POST(HttpRequest.BodyPublishers.ofString(GENERATE)).build(),
              HttpResponse.BodyHandlers.ofLines());
      Iterator<String> lines = r.body().iterator();
      assertThat(lines.next()).contains("\"response\"");
      local.stopAccepting(HOST_REASON);
      assertThat(local.cut(HOST_REASON)).hasSize(1);
      List<String> tail = rest(lines);
      assertThat(tail.get(tail.size() - 1)).isEqualTo("{\"error\":\"" + HOST_REASON + "\"}");
    }
  }

  @Test
  void aWorkstationShuttingDownEndsOpenAiAndAnthropicStreamsWithAnErrorEventAndRefusesNewRequests() throws Exception {
    Iterator<String> openai =
        open("/v1/chat/completions",
            "{\"model\":\"tiny:1b\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "\"content\"");
    Iterator<String> anthropic =
        open("/v1/messages",
            "{\"model\":\"tiny:1b\",\"stream\":true,\"max_tokens\":100000,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            "content_block_delta");

    wsGate.stopAccepting(WS_REASON);
    HttpResponse<String> late = http.send(post("/api/generate", GENERATE), HttpResponse.BodyHandlers.ofString());
    assertThat(late.statusCode()).isEqualTo(503);
    assertThat(late.body()).contains(WS_REASON);
    assertThat(wsGate.drained()).isNotDone(); // the two streams are still running
    assertThat(wsGate.cut(WS_REASON)).hasSize(2);
    wsGate.drained().get(5, TimeUnit.SECONDS);

    List<String> o = rest(openai);
    assertThat(o).anySatisfy(l -> assertThat(l).startsWith("data: ").contains("\"error\"").contains(WS_REASON));
    List<String> a = rest(anthropic);
    int event = a.indexOf("event: error");
    assertThat(event).as(a.toString()).isNotNegative();
    assertThat(a.get(event + 1)).startsWith("data: ").contains(WS_REASON);
  }
}
