package dev.thunderlink.inference;

import dev.thunderlink.inference.internal.FrontServer;
import dev.thunderlink.inference.internal.HostInference;
import dev.thunderlink.inference.internal.InferenceClient;
import dev.thunderlink.inference.internal.InferenceGrpcService;
import dev.thunderlink.inference.internal.ModelScheduler;
import dev.thunderlink.inference.internal.OllamaUpstream;
import dev.thunderlink.proto.inference.Priority;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start-up warm-up of the inference path: requests that run the same code a user's request
 * runs, so that the JIT has compiled it before the first real one. Started in the background by
 * {@link InferenceHost#startWarmup} and {@link InferenceWorkstation#startWarmup}, which the
 * daemons call once they are ready, when the configuration asks for it ({@code [inference]
 * warmup}, on by default in the daemons).
 *
 * <p>Why: a JVM runs a request's per-request code (HTTP parsing, JSON, the proto, gRPC's call
 * start and stream creation on both sides, the scheduler, the upstream client) interpreted or
 * barely compiled for its first few thousand requests, and the pair pays several milliseconds
 * of that on every first token until then (see the inference-proxy README).
 *
 * <p>What it runs: a private copy of the whole pair, inside this JVM, over loopback — an Ollama
 * simulator as the model server (never a configured upstream: no model is loaded and no token is
 * generated on the user's model server), a private {@link HostInference} and scheduler (so the
 * real scheduler's counters, {@code thunderlink models} and the metrics never see it), the host's
 * gRPC service on a plaintext Netty gRPC server, a Netty gRPC channel to it, and an HTTP front,
 * read by a raw HTTP/1.1 client over one keep-alive connection. Requests take turns over the four
 * streamed dialects ({@code /api/generate}, {@code /api/chat}, {@code /v1/chat/completions},
 * {@code /v1/messages}), 1 token each (the first token's path and the end; 3 tokens cost more CPU
 * for no gain in the same-run A/B). Not warmed: TLS, epoll (it runs on NIO), and the daemons'
 * link interceptors.
 *
 * <p>Bounded: the configured number of requests (the daemons: {@link #defaultRequests()}) or
 * {@link #MAX_WALL}, whichever comes first; one thread of its own plus the private servers'
 * event loops. Logged in one line when it ends (requests, wall time, process CPU time).
 *
 * <p>One per JVM at a time: a host and a workstation started together in one JVM (the benchmark,
 * tests) share the running warm-up, since the compiled code is the JVM's; it stops when the last
 * of them closes.
 */
public final class Warmup {
  private static final Logger log = LoggerFactory.getLogger(Warmup.class);

  /** The warm-up stops after this long even if its requests are not all done (a loaded machine). */
  public static final Duration MAX_WALL = Duration.ofSeconds(30);

  static final String MODEL = "thunderlink-warmup:0b";

  /** Requests of the daemons' warm-up (see {@link #defaultRequests()}); chosen by measurement, see the README. */
  public static final int DEFAULT_REQUESTS = 3000;

  /** What a warm-up did: requests completed, wall time, the process's CPU time meanwhile, how it ended. */
  public record Report(int requests, Duration wall, Duration processCpu, String outcome) {
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%d requests in %.2f s (process CPU %.2f s), %s", requests,
          wall.toNanos() / 1e9, processCpu.toNanos() / 1e9, outcome);
    }
  }

  private static final Object LOCK = new Object();
  private static Warmup current;

  private final int requests;
  private final String model;
  private final CompletableFuture<Report> done = new CompletableFuture<>();
  private final Thread thread;
  private volatile boolean stop;
  private volatile Socket socket;
  private volatile int completed;
  private int users; // under LOCK

  private Warmup(int requests, String model) {
    this.requests = requests;
    this.model = model;
    this.thread = new Thread(this::run, "thunderlink-inference-warmup");
    thread.setDaemon(true);
  }

  /** The daemons' warm-up: {@code -Dthunderlink.warmup.requests=N} (measurements), else {@value #DEFAULT_REQUESTS}. */
  public static int defaultRequests() {
    return Math.max(0, Integer.getInteger("thunderlink.warmup.requests", DEFAULT_REQUESTS));
  }

  /** Requests completed so far. */
  public int completedRequests() {
    return completed;
  }

  /**
   * Starts a warm-up of {@code requests} requests, or joins the one running in this JVM (whatever
   * its count); {@link #release} when closing.
   */
  static Warmup acquire(int requests) {
    synchronized (LOCK) {
      if (current != null && !current.done.isDone()) {
        current.users++;
        return current;
      }
      Warmup w = new Warmup(requests, MODEL);
      w.users = 1;
      current = w;
      w.thread.start();
      return w;
    }
  }

  /**
   * A warm-up of its own (not this JVM's shared one) whose requests ask for {@code model}: a
   * model its private simulator does not hold makes the front answer 404, i.e. the failure path.
   * For tests.
   */
  static Warmup startAsking(String model, int requests) {
    Warmup w = new Warmup(requests, model);
    w.users = 1;
    w.thread.start();
    return w;
  }

  /**
   * Leaves the warm-up; the last user stops it, between two requests (none is cut: the private
   * servers then close as after a finished warm-up), and waits for it to end.
   */
  void release() {
    synchronized (LOCK) {
      if (--users > 0) {
        return;
      }
      if (current == this) {
        current = null;
      }
    }
    stop = true;
    try {
      thread.join(TimeUnit.SECONDS.toMillis(30)); // its start-up on a loaded machine; a request takes ms
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) { // a request stuck past its read timeout: cut it
      Socket s = socket;
      if (s != null) {
        try {
          s.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
    }
  }

  /**
   * An owner's hold on the JVM's warm-up (an {@link InferenceHost}, an {@link InferenceWorkstation}):
   * started at most once, never after {@link #close}, released by it. Thread-safe.
   */
  static final class Slot implements AutoCloseable {
    private final int requests;
    private Warmup warmup; // under this
    private boolean closed; // under this

    Slot(int requests) {
      this.requests = requests;
    }

    /** Starts (or joins) the warm-up once; nothing with 0 requests or once closed. */
    synchronized Optional<Warmup> start() {
      if (warmup == null && !closed && requests > 0) {
        warmup = acquire(requests);
      }
      return Optional.ofNullable(warmup);
    }

    synchronized Optional<Warmup> current() {
      return Optional.ofNullable(warmup);
    }

    /** Releases the warm-up, if started; the last owner's release stops it and waits for it. */
    @Override
    public void close() {
      Warmup w;
      synchronized (this) {
        closed = true;
        w = warmup;
        warmup = null;
      }
      if (w != null) {
        w.release();
      }
    }
  }

  /** Completes when the warm-up has ended (and its private servers are closed); never fails. */
  public CompletableFuture<Report> done() {
    return done;
  }

  private void run() {
    long t0 = System.nanoTime();
    long cpu0 = processCpuNanos();
    int n = 0;
    String outcome = "done";
    OllamaSimulator sim = null;
    ScheduledExecutorService timer = null;
    HostInference host = null;
    Server server = null;
    ManagedChannel channel = null;
    FrontServer front = null;
    try {
      sim = OllamaSimulator.start(SimulatorConfig.builder().bindHost("127.0.0.1").port(0)
          .model(SimulatedModel.of(MODEL, 1 << 20)).loadBytesPerSecond(1e12)
          .promptTokensPerSecond(1e9).evalTokensPerSecond(1e6).defaultResponseTokens(1).build(), false);
      timer = Executors.newSingleThreadScheduledExecutor(
          new io.netty.util.concurrent.DefaultThreadFactory("thunderlink-warmup-timer", true));
      Duration limit = MAX_WALL;
      host = new HostInference(List.of(new OllamaUpstream("warm-up", sim.baseUri(), 1,
          Duration.ofSeconds(2), limit, limit, timer)),
          SchedulerConfig.builder().linger(Duration.ZERO).build(), Duration.ofSeconds(2), limit);
      host.scheduler().silence();
      host.start().get(10, TimeUnit.SECONDS);
      server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).directExecutor()
          .addService(new InferenceGrpcService(host, ModelScheduler.RequestClass.INTERACTIVE))
          .build().start();
      channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
      front = FrontServer.start(new FrontServer.Settings("127.0.0.1", 0, 1 << 20, null, true,
          Priority.PRIORITY_INTERACTIVE, "warm-up"), new InferenceClient(channel), false);
      byte[][] reqs = {
        request("/api/generate", "{\"model\":\"" + model + "\",\"prompt\":\"hi\",\"options\":{\"num_predict\":1}}"),
        request("/api/chat", "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
            + "\"options\":{\"num_predict\":1}}"),
        request("/v1/chat/completions", "{\"model\":\"" + model + "\",\"stream\":true,\"max_tokens\":1,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
        request("/v1/messages", "{\"model\":\"" + model + "\",\"stream\":true,\"max_tokens\":1,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
      };
      try (Socket s = new Socket("127.0.0.1", front.address().getPort())) {
        socket = s;
        s.setTcpNoDelay(true);
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        InputStream in = new BufferedInputStream(s.getInputStream());
        for (; n < requests; n++) {
          if (stop) {
            outcome = "stopped: closing";
            break;
          }
          if (System.nanoTime() - t0 > MAX_WALL.toNanos()) {
            outcome = "stopped at the " + MAX_WALL.toSeconds() + " s limit";
            break;
          }
          out.write(reqs[n % reqs.length]);
          out.flush();
          readResponse(in);
          completed = n + 1;
        }
      } finally {
        socket = null;
      }
    } catch (Exception e) {
      outcome = stop ? "stopped: closing" : "failed: " + e;
    } finally {
      if (front != null) {
        front.close();
      }
      if (channel != null) {
        channel.shutdownNow();
      }
      if (server != null) {
        server.shutdownNow();
      }
      if (host != null) {
        host.close();
      }
      if (timer != null) {
        timer.shutdownNow();
      }
      if (sim != null) {
        sim.close();
      }
      Report r = new Report(n, Duration.ofNanos(System.nanoTime() - t0),
          Duration.ofNanos(Math.max(0, processCpuNanos() - cpu0)), outcome);
      if (outcome.startsWith("failed")) {
        log.warn("inference warm-up (JIT, private loopback pair, no upstream): {}", r);
      } else {
        log.info("inference warm-up (JIT, private loopback pair, no upstream): {}", r);
      }
      done.complete(r);
    }
  }

  private static byte[] request(String path, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return ("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + b.length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8);
  }

  /** Reads one HTTP/1.1 response (chunked or with a length); fails unless it is a 200. */
  private static void readResponse(InputStream in) throws IOException {
    String status = line(in);
    if (!status.startsWith("HTTP/1.1 200")) {
      throw new IOException("the warm-up's front answered " + status);
    }
    boolean chunked = false;
    long length = -1;
    for (String h = line(in); !h.isEmpty(); h = line(in)) {
      String lower = h.toLowerCase(Locale.ROOT);
      if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
        chunked = true;
      } else if (lower.startsWith("content-length:")) {
        length = Long.parseLong(lower.substring("content-length:".length()).trim());
      }
    }
    if (!chunked) {
      skip(in, Math.max(0, length));
      return;
    }
    while (true) {
      String size = line(in);
      int semi = size.indexOf(';');
      long n = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
      if (n == 0) {
        while (!line(in).isEmpty()) { // trailers
          // skip
        }
        return;
      }
      skip(in, n);
      line(in);
    }
  }

  private static void skip(InputStream in, long n) throws IOException {
    while (n > 0) {
      long k = in.skip(n);
      if (k <= 0) {
        if (in.read() < 0) {
          throw new IOException("the warm-up's front closed the connection mid-response");
        }
        k = 1;
      }
      n -= k;
    }
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(64);
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new IOException("the warm-up's front closed the connection");
      }
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  private static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return Math.max(0, sun.getProcessCpuTime());
    }
    return 0;
  }
}
