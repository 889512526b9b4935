package dev.thunderlink.benchmarks.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thunderlink.benchmarks.internal.SimulatedInference;
import dev.thunderlink.inference.FrontConfig;
import dev.thunderlink.inference.InferenceHost;
import dev.thunderlink.inference.InferenceWorkstation;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * {@code token-stream}: an Ollama {@code /api/generate} stream as a client on the workstation sees
 * it, through the workstation's front, the link and the host's scheduler, beside the same request
 * sent straight to the upstream: time to first token and time per token. The upstream is the
 * inference proxy's SIMULATED Ollama (no model server runs here), set fast (500 tokens/s) so the
 * figures show what the path adds, not a model's speed.
 *
 * <p>Against a real host ({@code --path}): the host's smallest model through the front and the
 * link only; the straight figures need the upstream in this process ({@code --emulate}).
 */
final class TokenStreamSuite implements BenchSuite {
  static final String MODEL = SimulatedInference.MODEL;
  static final int TOKENS = SimulatedInference.TOKENS;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The host side for {@code --emulate}: scheduler over a fast simulator, no local front. */
  static InferenceHost startHost() {
    return SimulatedInference.startHost();
  }

  @Override
  public String id() {
    return "token-stream";
  }

  @Override
  public String title() {
    return "Token streaming";
  }

  @Override
  public String description() {
    return "Ollama /api/generate, " + TOKENS + " streamed tokens, one request at a time: through the"
        + " workstation's front, the link (gRPC, mutual TLS) and the host's scheduler, beside the same"
        + " request straight to the upstream (the limit). The upstream is a SIMULATED Ollama producing"
        + " 500 tokens/s, so the figures show what the path adds. Lower is better.";
  }

  @Override
  public List<BenchMetric> metrics() {
    return List.of(
        BenchMetric.measured("ttft", "time to first token, median", "ms", false, "ttft-direct"),
        BenchMetric.measured("per-token", "time per token, median", "ms", false, "per-token-direct"),
        BenchMetric.limit("ttft-direct", "straight to the upstream: first token", "ms", false),
        BenchMetric.limit("per-token-direct", "straight to the upstream: per token", "ms", false));
  }

  private static int requests(BenchBudget b) {
    return b.full() ? 100 : Math.max(3, (int) (8 * Math.min(1, b.factor())));
  }

  @Override
  public long plannedMillis(BenchBudget budget) {
    return (requests(budget) + 2) * 2L * 150;
  }

  @Override
  public void run(BenchTarget target, BenchBudget budget, BenchRecorder recorder) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    // a workstation front of our own over exactly this path (the daemon's front follows whichever
    // path is active), as a client on the workstation sees it
    try (InferenceWorkstation ws = InferenceWorkstation.start(FrontConfig.builder().port(0).build(), target.channel())) {
      URI front = URI.create("http://127.0.0.1:" + ws.address().getPort());
      if (target.simulator() == null) {
        realHost(http, front, target, budget, recorder);
        return;
      }
      recorder.phase("token stream through the link over " + target.label());
      measure(http, front, MODEL, TOKENS, requests(budget), recorder, "ttft", "per-token");
      recorder.phase("token stream straight to the upstream");
      measure(http, target.simulator(), MODEL, TOKENS, requests(budget), recorder, "ttft-direct", "per-token-direct");
    }
  }

  /**
   * A real host: its own models, through the front and the link only (its model server is not
   * reachable from here, so there is no straight-to-the-upstream figure). Takes the smallest model
   * the host lists, and fewer, shorter answers: a real model is slower than the simulator.
   */
  private void realHost(HttpClient http, URI front, BenchTarget target, BenchBudget budget,
      BenchRecorder recorder) throws IOException, InterruptedException {
    String direct = "a real host's model server is not reachable from the workstation: no straight figure";
    recorder.unavailable("ttft-direct", direct);
    recorder.unavailable("per-token-direct", direct);
    String model;
    try {
      model = smallestModel(http, front);
    } catch (IOException e) {
      recorder.unavailable("ttft", e.getMessage());
      recorder.unavailable("per-token", e.getMessage());
      recorder.worked(plannedMillis(budget));
      return;
    }
    recorder.phase("token stream through the link over " + target.label() + " (" + model + ")");
    int n = budget.full() ? 20 : 5;
    measure(http, front, model, 16, n, recorder, "ttft", "per-token");
    recorder.note(target.label() + ": the host's model " + model + ", 16 tokens per answer, " + n
        + " answers; per-token time is the model's own speed");
  }

  /** The smallest model the host lists on {@code /api/tags}, through the front and the link. */
  static String smallestModel(HttpClient http, URI front) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(front.resolve("/api/tags")).timeout(Duration.ofSeconds(15)).GET().build();
    HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("the host lists no models (GET /api/tags through the link: HTTP " + r.statusCode()
          + "); is inference on (serve without --no-inference)?");
    }
    String best = null;
    long bestSize = Long.MAX_VALUE;
    for (JsonNode m : JSON.readTree(r.body()).path("models")) {
      long size = m.path("size").asLong(Long.MAX_VALUE - 1);
      boolean embedding = m.path("name").asText().contains("embed");
      if (!embedding && size < bestSize) {
        best = m.path("name").asText();
        bestSize = size;
      }
    }
    if (best == null) {
      throw new IOException("the host lists no generating model (GET /api/tags through the link)");
    }
    return best;
  }

  private static void measure(HttpClient http, URI base, String model, int tokens, int n, BenchRecorder recorder,
      String ttftId, String perTokenId) throws IOException, InterruptedException {
    stream(http, base, model, tokens); // warm-up (and the model load, the first time)
    stream(http, base, model, tokens);
    double[] ttft = new double[n];
    double[] perToken = new double[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      double[] r = stream(http, base, model, tokens);
      ttft[i] = r[0];
      perToken[i] = r[1];
      recorder.worked((System.nanoTime() - t0) / 1_000_000);
    }
    recorder.value(ttftId, median(ttft), n);
    recorder.value(perTokenId, median(perToken), n);
  }

  /** One streamed generate; returns {ms to the first token, ms per token after it}. */
  private static double[] stream(HttpClient http, URI base, String model, int tokens) throws IOException, InterruptedException {
    String body = JSON.createObjectNode()
        .put("model", model)
        .put("prompt", "Write a function that adds two numbers.")
        .put("stream", true)
        .set("options", JSON.createObjectNode().put("num_predict", tokens))
        .toString();
    HttpRequest request = HttpRequest.newBuilder(base.resolve("/api/generate"))
        .header("content-type", "application/json")
        .timeout(Duration.ofSeconds(120))
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
    long t0 = System.nanoTime();
    HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    long first = -1;
    long last = -1;
    int streamed = 0;
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      if (response.statusCode() != 200) {
        throw new IOException("POST " + request.uri() + ": HTTP " + response.statusCode() + " " + lines.readLine());
      }
      String line;
      while ((line = lines.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode chunk = JSON.readTree(line);
        if (chunk.has("error")) {
          throw new IOException("POST " + request.uri() + ": " + chunk.get("error").asText());
        }
        if (!chunk.path("response").asText("").isEmpty()) {
          long now = System.nanoTime();
          if (first < 0) {
            first = now;
          }
          last = now;
          streamed++;
        }
      }
    }
    if (streamed < 2) {
      throw new IOException("POST " + request.uri() + ": " + streamed + " tokens streamed (expected: >= 2)");
    }
    return new double[] {(first - t0) / 1e6, (last - first) / 1e6 / (streamed - 1)};
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[(sorted.length - 1) / 2];
  }
}
