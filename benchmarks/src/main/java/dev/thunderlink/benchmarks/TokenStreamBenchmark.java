package dev.thunderlink.benchmarks;

import dev.thunderlink.benchmarks.internal.BenchLink;
import dev.thunderlink.benchmarks.internal.LinkPair;
import dev.thunderlink.benchmarks.internal.SimulatedInference;
import dev.thunderlink.inference.FrontConfig;
import dev.thunderlink.inference.InferenceHost;
import dev.thunderlink.inference.InferenceWorkstation;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PeerLink;
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
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Time to first token of an Ollama {@code /api/generate} stream as a client on the workstation
 * sees it: through a workstation front, the real link (LinkServer + PeerLink, mutual TLS, through
 * the profile's emulator) and the host's scheduler ({@code pair}), beside the same request
 * straight to the upstream ({@code direct}). The upstream is the inference proxy's SIMULATED Ollama
 * at 500 tokens/s. Each operation reads until the first token, then drops the stream (the
 * cancellation travels to the upstream). {@code thunderlink bench}'s {@code token-stream} suite
 * has the per-token time too.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar TokenStreamBenchmark -p profile=loopback,thunderbolt,wifi
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class TokenStreamBenchmark {

  @Param({"thunderbolt", "wifi"})
  public String profile;

  private InferenceHost host;
  private LinkPair pair;
  private BenchLink path;
  private InferenceWorkstation front;
  private HttpClient http;
  private URI viaPair;
  private URI direct;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    if (BenchLink.isRemote(profile)) {
      throw new IllegalStateException("profile " + profile + ": TokenStreamBenchmark runs against a local host only"
          + " (thunderlink bench --path measures a real host's first token)");
    }
    host = SimulatedInference.startHost();
    pair = LinkPair.start(host.linkService().bindService());
    path = BenchLink.open(profile, pair.hostAddress(), LinkPath.DEFAULT_PORT);
    PeerLink link = pair.connect(BenchLink.pathName(profile), path.address(), BenchLink.kindOf(profile));
    front = InferenceWorkstation.start(FrontConfig.builder().port(0).build(), link.channel());
    viaPair = URI.create("http://127.0.0.1:" + front.address().getPort());
    direct = host.simulator().orElseThrow().baseUri();
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    firstToken(viaPair); // loads the model
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (front != null) {
      front.close();
    }
    if (pair != null) {
      pair.close();
    }
    if (path != null) {
      path.close();
    }
    if (host != null) {
      host.close();
    }
  }

  @Benchmark
  public int pair() throws Exception {
    return firstToken(viaPair);
  }

  @Benchmark
  public int direct() throws Exception {
    return firstToken(direct);
  }

  /** Streams a short answer until its first token; returns the token's length. */
  private int firstToken(URI base) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(base.resolve("/api/generate"))
        .header("content-type", "application/json")
        .timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + SimulatedInference.MODEL + "\","
            + "\"prompt\":\"Write a function that adds two numbers.\",\"stream\":true,"
            + "\"options\":{\"num_predict\":4}}"))
        .build();
    HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      if (response.statusCode() != 200) {
        throw new IOException("POST " + request.uri() + ": HTTP " + response.statusCode() + " " + lines.readLine());
      }
      String line;
      while ((line = lines.readLine()) != null) {
        int at = line.indexOf("\"response\":\"");
        if (at >= 0 && line.charAt(at + 12) != '"') {
          return line.length();
        }
        if (line.contains("\"error\"")) {
          throw new IOException("POST " + request.uri() + ": " + line);
        }
      }
    }
    throw new IOException("POST " + base + "/api/generate: the stream ended without a token");
  }
}
