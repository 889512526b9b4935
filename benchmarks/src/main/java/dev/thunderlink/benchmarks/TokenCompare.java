package dev.thunderlink.benchmarks;

import dev.thunderlink.inference.FrontConfig;
import dev.thunderlink.inference.InferenceHost;
import dev.thunderlink.inference.InferenceHostConfig;
import dev.thunderlink.inference.InferenceWorkstation;
import dev.thunderlink.inference.SchedulerConfig;
import dev.thunderlink.inference.SimulatedModel;
import dev.thunderlink.inference.SimulatorConfig;
import dev.thunderlink.inference.Warmup;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A measurement for {@code benchmarks/token-compare.sh}, not a test: an Ollama
 * {@code /api/generate} token stream from the SIMULATED Ollama (no model server runs here; it
 * produces 1000 tokens/s in real time, so the figures show what each path adds), read by a
 * client over a keep-alive connection three ways:
 * <ul>
 *   <li>straight to the simulator (the baseline),
 *   <li>through an {@code ssh -L} tunnel to it (set up by the script: {@code --tunnel-port}),
 *   <li>through the thunderlink pair: workstation front → gRPC over loopback (plaintext here;
 *       the daemons use mutual TLS) → host → scheduler → simulator.
 * </ul>
 * The paths take turns, one request each, so machine load falls on all three alike. Prints a
 * markdown table: time to first token and time per token, p50 and p95, and the p50 added over
 * the baseline.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.thunderlink.benchmarks.TokenCompare
 * --simulator-port P [--tunnel-port T] [--runs N] [--tokens N] [--warm N] [--out FILE]}
 */
public final class TokenCompare {
  private static final String MODEL = "compare-simulated:1b";

  private TokenCompare() {}

  public static void main(String[] args) throws Exception {
    int simPort = 0;
    int tunnelPort = 0;
    int runs = 200;
    int tokens = 50;
    int warm = 0;
    Path out = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (i + 1 >= args.length) {
        usage(a + " needs a value");
      }
      String v = args[++i];
      switch (a) {
        case "--simulator-port" -> simPort = intArg(a, v, 1);
        case "--tunnel-port" -> tunnelPort = intArg(a, v, 1);
        case "--runs" -> runs = intArg(a, v, 1);
        case "--tokens" -> tokens = intArg(a, v, 2);
        case "--warm" -> warm = intArg(a, v, 0);
        case "--out" -> out = Path.of(v);
        default -> usage("unknown option: " + a);
      }
    }
    if (simPort == 0) {
      usage("--simulator-port is required");
    }
    SimulatorConfig sim = SimulatorConfig.builder().port(simPort).timeScale(1)
        .evalTokensPerSecond(1000).promptTokensPerSecond(1e9).defaultResponseTokens(tokens)
        .model(SimulatedModel.of(MODEL, 1000)).build();
    try (InferenceHost host = InferenceHost.start(InferenceHostConfig.builder().simulator(sim)
        .scheduler(SchedulerConfig.builder().linger(Duration.ZERO).build()).noLocalFront().warmup(Warmup.defaultRequests()).build())) {
      // The token streams run on the event loop, the rest on a pool, as the host daemon's
      // LinkServer runs them (direct executor + OffloadInterceptor).
      java.util.concurrent.ExecutorService callPool = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "bench-link-call");
        t.setDaemon(true);
        return t;
      });
      Server link = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .directExecutor()
          .addService(io.grpc.ServerInterceptors.intercept(host.linkService(),
              new dev.thunderlink.transport.internal.OffloadInterceptor(
                  callPool, java.util.Set.of(), InferenceHost.nonBlockingMethods()),
              new io.grpc.ServerInterceptor() {
            @Override
            public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call,
                io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, R> next) {
              dev.thunderlink.inference.internal.Hops.mark(dev.thunderlink.inference.internal.Hops.HOST_CALL_STARTED);
              return next.startCall(call, headers);
            }
          })).build().start();
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", link.getPort()).usePlaintext().build();
      try (InferenceWorkstation ws = InferenceWorkstation.start(FrontConfig.builder().port(0).warmup(Warmup.defaultRequests()).build(), ch)) {
        // The daemons' start-up warm-up, started as they start it once ready (one per JVM,
        // shared by the two). Measured once it has ended: a daemon up for a few seconds.
        String warmup = host.startWarmup().map(w -> w.done().join().toString()).orElse("none");
        ws.startWarmup().ifPresent(w -> w.done().join());
        Map<String, Integer> paths = new LinkedHashMap<>();
        paths.put("straight to the simulator (baseline)", simPort);
        if (tunnelPort > 0) {
          paths.put("ssh -L tunnel", tunnelPort);
        }
        paths.put("thunderlink pair", ws.address().getPort());
        List<Client> clients = new ArrayList<>();
        for (int port : paths.values()) {
          clients.add(new Client(port, tokens, port == ws.address().getPort()));
        }
        for (int i = 0; i < 30; i++) { // warm-up: JIT, connections, the model load
          for (Client c : clients) {
            c.once(false);
          }
        }
        // --warm: short requests on every path, taking turns, so the code run once per request
        // (HTTP parsing, JSON, the gRPC call's start, the scheduler) is compiled as in a daemon
        // that has served that many; 30 requests leave most of it interpreted.
        for (int i = 0; i < warm; i++) {
          for (Client c : clients) {
            c.quick();
          }
        }
        for (int i = 0; i < runs; i++) {
          for (Client c : clients) {
            c.once(true);
          }
        }
        String table = table(paths, clients, runs, tokens, warm, warmup) + clients.get(clients.size() - 1).hopTable();
        System.out.print(table);
        if (out != null) {
          Files.writeString(out, table);
        }
        for (Client c : clients) {
          c.close();
        }
      } finally {
        ch.shutdownNow();
        link.shutdownNow();
      }
    }
  }

  private static String table(Map<String, Integer> paths, List<Client> clients, int runs, int tokens, int warm,
      String startupWarmup) {
    StringBuilder sb = new StringBuilder();
    double[] base = clients.get(0).summary();
    sb.append(String.format(Locale.ROOT, "token stream: Ollama /api/generate, %d tokens from the SIMULATED Ollama"
        + " at 1000 tokens/s, %d requests per path, paths taking turns, after %d warm-up requests per path;"
        + " load average %s; the pair's start-up warm-up: %s%n%n", tokens, runs, 30 + warm, loadAverage(),
        startupWarmup));
    sb.append("| path | first token p50 | p95 | added at p50 | per token p50 | p95 | added at p50 |\n");
    sb.append("|---|---|---|---|---|---|---|\n");
    int i = 0;
    for (String label : paths.keySet()) {
      double[] s = clients.get(i++).summary();
      sb.append(String.format(Locale.ROOT, "| %s | %.3f ms | %.3f ms | %s | %.4f ms | %.4f ms | %s |%n",
          label, s[0], s[1], i == 1 ? "—" : String.format(Locale.ROOT, "%+.3f ms", s[0] - base[0]),
          s[2], s[3], i == 1 ? "—" : String.format(Locale.ROOT, "%+.4f ms", s[2] - base[2])));
    }
    return sb.toString();
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  private static int intArg(String name, String v, int min) {
    try {
      int n = Integer.parseInt(v);
      if (n >= min) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    usage(name + ": " + v + " (expected: an integer >= " + min + ")");
    return 0;
  }

  private static void usage(String why) {
    System.err.println("token-compare: " + why);
    System.err.println("usage: TokenCompare --simulator-port P [--tunnel-port T] [--runs N] [--tokens N] [--warm N] [--out FILE]");
    System.exit(2);
  }

  /** One keep-alive connection to one path; raw HTTP/1.1 so the client adds nothing. */
  private static final class Client implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final BufferedReader in;
    private final byte[] request;
    private final byte[] quickRequest;
    private final List<Double> ttft = new ArrayList<>();
    private final List<Double> perToken = new ArrayList<>();
    /** Traces its requests hop by hop (the pair's client, with -Dthunderlink.hops=true). */
    private final boolean traced;
    private final List<double[]> hops = new ArrayList<>();

    Client(int port, int tokens, boolean traced) throws IOException {
      this.traced = traced && dev.thunderlink.inference.internal.Hops.ON;
      socket = new Socket("127.0.0.1", port);
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(30_000);
      out = socket.getOutputStream();
      in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      request = request(tokens);
      quickRequest = request(2);
    }

    /** A warm-up request: the same path with 2 tokens, unrecorded and untraced. */
    void quick() throws IOException {
      out.write(quickRequest);
      out.flush();
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("{")) {
          if (line.contains("\"error\"")) {
            throw new IOException("port " + socket.getPort() + ": " + line);
          }
          if (line.contains("\"done\":true")) {
            break;
          }
        }
      }
      if (line == null) {
        throw new IOException("port " + socket.getPort() + ": connection closed mid-stream");
      }
      in.readLine();
    }

    private static byte[] request(int tokens) {
      String body = "{\"model\":\"" + MODEL + "\",\"prompt\":\"hi\",\"options\":{\"num_predict\":" + tokens + "}}";
      return ("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
    }

    void once(boolean record) throws IOException {
      if (traced) {
        dev.thunderlink.inference.internal.Hops.begin();
      }
      long t0 = System.nanoTime();
      out.write(request);
      out.flush();
      long first = 0;
      long last = 0;
      int n = 0;
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("{")) {
          if (line.contains("\"error\"")) {
            throw new IOException("port " + socket.getPort() + ": " + line);
          }
          long now = System.nanoTime();
          if (first == 0) {
            first = now;
            if (traced) {
              dev.thunderlink.inference.internal.Hops.mark(dev.thunderlink.inference.internal.Hops.CLIENT_GOT);
              double[] h = dev.thunderlink.inference.internal.Hops.end();
              if (record) {
                hops.add(h);
              }
            }
          }
          last = now;
          n++;
          if (line.contains("\"done\":true")) {
            break;
          }
        }
      }
      if (line == null) {
        throw new IOException("port " + socket.getPort() + ": connection closed mid-stream");
      }
      in.readLine(); // the end of the last chunk; the terminating chunk is skipped by the next read
      if (record) {
        ttft.add((first - t0) / 1e6);
        perToken.add((last - first) / 1e6 / Math.max(1, n - 1));
      }
    }

    /** p50 of each hop's stamp, relative to the client's request (empty when not traced). */
    String hopTable() {
      if (hops.isEmpty()) {
        return "";
      }
      StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
          "%nthunderlink pair, hop by hop (p50 of each stamp since the client's request, %d requests):%n%n"
          + "| hop | p50 | p50 since the previous hop |%n|---|---|---|%n", hops.size()));
      for (int i = 0; i < dev.thunderlink.inference.internal.Hops.NAMES.length; i++) {
        final int k = i;
        double[] v = hops.stream().mapToDouble(h -> h[k]).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (v.length == 0) {
          continue;
        }
        double p = pct(v, .5);
        double[] d = hops.stream().filter(h -> !Double.isNaN(h[k])).mapToDouble(h -> {
          double before = 0;
          for (int j = k - 1; j >= 0; j--) {
            if (!Double.isNaN(h[j])) {
              before = h[j];
              break;
            }
          }
          return h[k] - before;
        }).sorted().toArray();
        sb.append(String.format(Locale.ROOT, "| %s | %.3f ms | %+.3f ms |%n",
            dev.thunderlink.inference.internal.Hops.NAMES[i], p, pct(d, .5)));
      }
      return sb.toString();
    }

    /** {ttft p50, ttft p95, per-token p50, per-token p95}. */
    double[] summary() {
      double[] a = ttft.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      double[] b = perToken.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      return new double[] {pct(a, .5), pct(a, .95), pct(b, .5), pct(b, .95)};
    }

    private static double pct(double[] sorted, double p) {
      return sorted[(int) Math.floor((sorted.length - 1) * p)];
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
