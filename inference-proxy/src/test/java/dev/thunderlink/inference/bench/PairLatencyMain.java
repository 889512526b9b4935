package dev.thunderlink.inference.bench;

import dev.thunderlink.inference.FrontConfig;
import dev.thunderlink.inference.InferenceHost;
import dev.thunderlink.inference.InferenceHostConfig;
import dev.thunderlink.inference.InferenceWorkstation;
import dev.thunderlink.inference.SimulatedModel;
import dev.thunderlink.inference.SimulatorConfig;
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
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * A measurement script, not a test: time to first token and time per token of an Ollama
 * {@code /api/generate} stream, straight to the simulator versus through the pair
 * (workstation front → gRPC over loopback → host → scheduler → simulator). The simulator runs
 * in real time (timeScale 1) with a fixed prompt-eval and token rate, so the difference is what
 * the pair adds. Run: see the report in the inference-proxy notes.
 */
public final class PairLatencyMain {
  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int tokens = 50;
    SimulatorConfig sim = SimulatorConfig.builder().timeScale(1).evalTokensPerSecond(1000)
        .promptTokensPerSecond(1e9).defaultResponseTokens(tokens)
        .model(SimulatedModel.of("tiny:1b", 1000)).build();
    try (InferenceHost host = InferenceHost.start(InferenceHostConfig.builder().simulator(sim)
        .localFront(FrontConfig.builder().port(0).build()).build())) {
      Server link = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(host.linkService()).build().start();
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", link.getPort()).usePlaintext().build();
      try (InferenceWorkstation ws = InferenceWorkstation.start(FrontConfig.builder().port(0).build(), ch)) {
        URI direct = host.simulator().orElseThrow().baseUri();
        measure("warm-up", direct.getPort(), 50, tokens);
        measure("warm-up", ws.address().getPort(), 50, tokens);
        measure("straight to the simulator", direct.getPort(), runs, tokens);
        measure("through the pair", ws.address().getPort(), runs, tokens);
        measure("host's local front (no link)", host.localFrontAddress().orElseThrow().getPort(), runs, tokens);
      } finally {
        ch.shutdownNow();
        link.shutdownNow();
      }
    }
  }

  static void measure(String label, int port, int runs, int tokens) throws Exception {
    double[] ttft = new double[runs];
    double[] perToken = new double[runs];
    String body = "{\"model\":\"tiny:1b\",\"prompt\":\"hi\",\"options\":{\"num_predict\":" + tokens + "}}";
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setTcpNoDelay(true);
      OutputStream out = s.getOutputStream();
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      for (int i = 0; i < runs; i++) {
        long t0 = System.nanoTime();
        out.write(("POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        long first = 0;
        long last = 0;
        int n = 0;
        String line;
        while ((line = in.readLine()) != null) {
          if (line.startsWith("{")) {
            long now = System.nanoTime();
            if (first == 0) {
              first = now;
            }
            last = now;
            n++;
            if (line.contains("\"done\":true")) {
              break;
            }
          }
        }
        in.readLine(); // chunk trailer
        ttft[i] = (first - t0) / 1e6;
        perToken[i] = (last - first) / 1e6 / Math.max(1, n - 1);
      }
    }
    if (label.equals("warm-up")) {
      return;
    }
    Arrays.sort(ttft);
    Arrays.sort(perToken);
    System.out.printf(Locale.ROOT, "%-28s runs %d: first token p50 %.3f ms p95 %.3f ms; per token p50 %.4f ms p95 %.4f ms%n",
        label, runs, ttft[runs / 2], ttft[(int) (runs * 0.95)], perToken[runs / 2], perToken[(int) (runs * 0.95)]);
  }
}
