package dev.thunderlink.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.inference.internal.HostInference;
import dev.thunderlink.inference.internal.ModelScheduler;
import dev.thunderlink.inference.internal.OllamaJson;
import dev.thunderlink.inference.internal.OllamaUpstream;
import dev.thunderlink.inference.internal.Upstream;
import dev.thunderlink.inference.internal.UpstreamException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The mixed trace of the inference issue — one interactive user and three agents (architect,
 * developer, reviewer) on two models that do not fit in memory together, ten simulated minutes —
 * replayed through a SIMULATED Ollama ({@link OllamaSimulator}, a Mac mini with 64 GB) either
 * straight (Ollama's own first-come-first-served order) or through the host's real {@code
 * ModelScheduler}. The same replay backs the scheduler's test and {@code thunderlink bench}'s
 * {@code scheduler} suite.
 *
 * <p>Time is simulated: the replay runs {@code scale} simulated seconds per real second, and every
 * figure it returns is in simulated seconds, so a scale of 500 replays the trace in a few real
 * seconds. Larger scales are coarser: a millisecond of real scheduling jitter is {@code scale}
 * simulated milliseconds.
 *
 * <p>Threads: {@link #replay} blocks its caller; requests are issued from a private timer pool and
 * answered on the upstream client's threads; all are stopped before it returns.
 */
public final class MixedTrace {

  /** The recorded trace: {@code mixed-agents.csv} beside this class. */
  public static final String BUILT_IN = "mixed-agents.csv";

  /**
   * One request of the trace.
   *
   * @param atMillis when it arrives, simulated milliseconds from the start
   * @param client who sends it ({@code user}, {@code developer}, ...)
   * @param model the model it asks for
   * @param interactive true for the interactive user, false for an agent (batch)
   * @param numPredict tokens to generate
   * @param promptChars prompt length in characters
   */
  public record Entry(long atMillis, String client, String model, boolean interactive, int numPredict,
      int promptChars) {}

  /**
   * What one replay measured, in simulated seconds.
   *
   * @param loads model loads the simulator did
   * @param swaps loads that had to put another model out of memory first: the scheduler's count
   *     when scheduled, the simulator's evictions when straight
   * @param interactiveWaits time to first token of each interactive request, sorted
   * @param batchWaits the same for the agents' requests, sorted
   * @param makespan from the first request until the last answer ended
   * @param loadSeconds time the simulator spent loading models
   */
  public record Result(long loads, long swaps, double[] interactiveWaits, double[] batchWaits,
      double makespan, double loadSeconds) {

    /** The {@code p}-quantile (0..1) of {@code sorted}, nearest rank below; NaN when empty. */
    public static double quantile(double[] sorted, double p) {
      return sorted.length == 0 ? Double.NaN : sorted[(int) Math.floor((sorted.length - 1) * p)];
    }
  }

  private MixedTrace() {}

  /** The built-in trace (84 requests). */
  public static List<Entry> builtIn() throws IOException {
    try (InputStream in = MixedTrace.class.getResourceAsStream(BUILT_IN)) {
      if (in == null) {
        throw new IOException("trace: " + BUILT_IN + " (expected: on the class path beside " + MixedTrace.class.getName() + ")");
      }
      return parse(new InputStreamReader(in, StandardCharsets.UTF_8));
    }
  }

  /**
   * Reads a trace: lines {@code at_millis,client,model,class,num_predict,prompt_chars} with class
   * {@code interactive} or {@code batch}; {@code #} comments and the header line are skipped.
   *
   * @throws IllegalArgumentException naming the line when one is malformed
   */
  public static List<Entry> parse(Reader source) throws IOException {
    List<Entry> out = new ArrayList<>();
    BufferedReader r = new BufferedReader(source);
    String line;
    int n = 0;
    while ((line = r.readLine()) != null) {
      n++;
      if (line.isBlank() || line.startsWith("#") || line.startsWith("at_millis")) {
        continue;
      }
      String[] f = line.split(",", -1);
      try {
        if (f.length != 6) {
          throw new IllegalArgumentException(f.length + " fields (expected: 6)");
        }
        if (!f[3].equals("interactive") && !f[3].equals("batch")) {
          throw new IllegalArgumentException("class " + f[3] + " (expected: interactive or batch)");
        }
        out.add(new Entry(Long.parseLong(f[0].trim()), f[1], f[2], f[3].equals("interactive"),
            Integer.parseInt(f[4].trim()), Integer.parseInt(f[5].trim())));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("trace line " + n + ": " + line + " (" + e.getMessage() + ")", e);
      }
    }
    return out;
  }

  /** The simulator the trace runs against: a 64 GB Mac mini, one request at a time per model. */
  public static SimulatorConfig simulatorConfig(double scale) {
    return SimulatorConfig.macMini64().timeScale(scale).numParallel(1).defaultResponseTokens(100).build();
  }

  /** The scheduler's defaults (2 min group wait, 5 s linger, 60 s aging), scaled to simulated time. */
  public static SchedulerConfig schedulerConfig(double scale) {
    return SchedulerConfig.builder()
        .maxGroupWait(scaled(Duration.ofSeconds(120), scale))
        .linger(scaled(Duration.ofSeconds(5), scale))
        .agingAfter(scaled(Duration.ofSeconds(60), scale))
        .build();
  }

  private static Duration scaled(Duration simulated, double scale) {
    return Duration.ofNanos((long) (simulated.toNanos() / scale));
  }

  /**
   * Replays {@code trace} against a fresh simulator, through the scheduler when {@code scheduled},
   * straight to the simulator otherwise.
   *
   * @param scale simulated seconds per real second, {@code >= 1}
   * @param timeout real time the whole replay may take
   */
  public static Result replay(List<Entry> trace, boolean scheduled, double scale, Duration timeout)
      throws IOException, InterruptedException, TimeoutException {
    if (!(scale >= 1) || scale > 100_000) {
      throw new IllegalArgumentException("scale: " + scale + " (expected: 1..100000)");
    }
    ScheduledExecutorService timer = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "mixed-trace");
      t.setDaemon(true);
      return t;
    });
    try (OllamaSimulator sim = OllamaSimulator.start(simulatorConfig(scale))) {
      OllamaUpstream up = new OllamaUpstream("simulator", sim.baseUri(), 1, Duration.ofSeconds(2),
          Duration.ofMinutes(5), Duration.ofMinutes(5), timer);
      HostInference host = scheduled ? new HostInference(List.of(up), schedulerConfig(scale)) : null;
      try {
        if (host != null) {
          try {
            host.start().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
          } catch (ExecutionException e) {
            throw new IOException("the scheduler could not list the simulator's models: " + e.getCause().getMessage(), e.getCause());
          }
        }
        List<Timed> calls = new ArrayList<>();
        long t0 = System.nanoTime();
        for (Entry e : trace) {
          Timed c = new Timed();
          calls.add(c);
          timer.schedule(() -> {
            c.startNanos = System.nanoTime();
            if (host != null) {
              host.stream("/api/chat", body(e), e.interactive()
                  ? ModelScheduler.RequestClass.INTERACTIVE : ModelScheduler.RequestClass.BATCH, c).request(Long.MAX_VALUE);
            } else {
              up.stream("/api/chat", body(e), c).request(Long.MAX_VALUE);
            }
          }, (long) (e.atMillis() * 1e6 / scale), TimeUnit.NANOSECONDS);
        }
        long deadline = t0 + timeout.toNanos();
        for (Timed c : calls) {
          try {
            c.done.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          } catch (ExecutionException e) {
            throw new IOException("trace request failed: " + e.getCause().getMessage(), e.getCause());
          }
        }
        double makespan = (calls.stream().mapToLong(c -> c.endNanos).max().orElse(t0) - t0) * scale / 1e9;
        double loadSeconds = 0;
        List<Double> interactive = new ArrayList<>();
        List<Double> batch = new ArrayList<>();
        for (int i = 0; i < trace.size(); i++) {
          Timed c = calls.get(i);
          loadSeconds += c.last.path("load_duration").asLong() / 1e9;
          double wait = (c.firstNanos - c.startNanos) * scale / 1e9;
          (trace.get(i).interactive() ? interactive : batch).add(wait);
        }
        long swaps = host != null ? host.scheduler().snapshot().join().swaps() : sim.counters().evictions();
        return new Result(sim.counters().loads(), swaps, sorted(interactive), sorted(batch), makespan, loadSeconds);
      } finally {
        if (host != null) {
          host.close();
        }
      }
    } finally {
      timer.shutdownNow();
    }
  }

  private static ObjectNode body(Entry e) {
    ObjectNode b = OllamaJson.object();
    b.put("model", e.model());
    ObjectNode m = b.putArray("messages").addObject();
    m.put("role", "user");
    m.put("content", e.client() + ": " + "x".repeat(e.promptChars()));
    b.putObject("options").put("num_predict", e.numPredict());
    return b;
  }

  private static double[] sorted(List<Double> values) {
    double[] a = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(a);
    return a;
  }

  /** Times one streamed answer: first object, last object, end. Called on the upstream's threads. */
  private static final class Timed implements Upstream.Observer {
    final CompletableFuture<Void> done = new CompletableFuture<>();
    volatile long startNanos;
    volatile long firstNanos;
    volatile long endNanos;
    volatile JsonNode last;

    @Override
    public void onObject(JsonNode object) {
      if (firstNanos == 0) {
        firstNanos = System.nanoTime();
      }
      last = object;
    }

    @Override
    public void onError(UpstreamException error) {
      endNanos = System.nanoTime();
      done.completeExceptionally(error);
    }

    @Override
    public void onComplete() {
      endNanos = System.nanoTime();
      done.complete(null);
    }
  }
}
