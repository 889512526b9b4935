package dev.thunderlink.inference.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.inference.OllamaSimulator;
import dev.thunderlink.inference.SchedulerConfig;
import dev.thunderlink.inference.SimulatorConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Replays a recorded mixed trace (an interactive user and three agents on two models that do not
 * fit together) through the same simulator twice: straight (Ollama's FIFO), and through the
 * scheduler. Counts model loads and waits; prints the figures.
 */
class MixedTraceTest {
  /** Simulated seconds per real second: the 10-minute trace replays in about a second. */
  static final double SCALE = 500;

  record Entry(long atMillis, String client, String model, ModelScheduler.RequestClass rc,
      int numPredict, int promptChars) {}

  record Result(long loads, long swaps, double[] interactiveWaits, double[] batchWaits, double makespan) {}

  static List<Entry> trace() throws Exception {
    List<Entry> out = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(Objects.requireNonNull(
        MixedTraceTest.class.getResourceAsStream("/traces/mixed-agents.csv")), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("#") || line.startsWith("at_millis")) {
          continue;
        }
        String[] f = line.split(",");
        out.add(new Entry(Long.parseLong(f[0]), f[1], f[2],
            f[3].equals("interactive") ? ModelScheduler.RequestClass.INTERACTIVE : ModelScheduler.RequestClass.BATCH,
            Integer.parseInt(f[4]), Integer.parseInt(f[5])));
      }
    }
    return out;
  }

  static SimulatorConfig simConfig() {
    return SimulatorConfig.macMini64().timeScale(SCALE).numParallel(1).defaultResponseTokens(100).build();
  }

  static SchedulerConfig schedulerConfig() {
    // The defaults, scaled to simulated time.
    return SchedulerConfig.builder()
        .maxGroupWait(scaled(Duration.ofSeconds(120)))
        .linger(scaled(Duration.ofSeconds(5)))
        .agingAfter(scaled(Duration.ofSeconds(60)))
        .build();
  }

  static Duration scaled(Duration sim) {
    return Duration.ofNanos((long) (sim.toNanos() / SCALE));
  }

  static ObjectNode body(Entry e) {
    ObjectNode b = Collect.chat(e.model(), e.client() + ": " + "x".repeat(e.promptChars()));
    b.putObject("options").put("num_predict", e.numPredict());
    return b;
  }

  Result replay(boolean scheduled) throws Exception {
    List<Entry> trace = trace();
    ScheduledExecutorService clock = Executors.newScheduledThreadPool(2);
    try (OllamaSimulator sim = OllamaSimulator.start(simConfig())) {
      OllamaUpstream up = new OllamaUpstream("sim", sim.baseUri(), 1, Duration.ofSeconds(2),
          Duration.ofMinutes(5), Duration.ofMinutes(5), clock);
      HostInference host = scheduled ? new HostInference(List.of(up), schedulerConfig()) : null;
      if (host != null) {
        host.start().join();
      }
      List<Collect> calls = new ArrayList<>();
      long t0 = System.nanoTime();
      for (Entry e : trace) {
        Collect c = new Collect();
        calls.add(c);
        clock.schedule(() -> {
          if (host != null) {
            host.stream("/api/chat", body(e), e.rc(), c).request(Long.MAX_VALUE);
          } else {
            up.stream("/api/chat", body(e), c).request(Long.MAX_VALUE);
          }
        }, (long) (e.atMillis() * 1e6 / SCALE), TimeUnit.NANOSECONDS);
      }
      for (Collect c : calls) {
        c.done.get(2, TimeUnit.MINUTES);
      }
      double makespan = (System.nanoTime() - t0) * SCALE / 1e9;
      double evalS = 0, loadS = 0, promptS = 0;
      for (Collect c : calls) {
        evalS += c.last().path("eval_duration").asLong() / 1e9;
        loadS += c.last().path("load_duration").asLong() / 1e9;
        promptS += c.last().path("prompt_eval_duration").asLong() / 1e9;
      }
      System.out.printf(Locale.ROOT, "%s: simulator busy: eval %.0f s, load %.0f s, prompt %.0f s (simulated)%n",
          scheduled ? "scheduler" : "FIFO", evalS, loadS, promptS);
      List<Double> iw = new ArrayList<>();
      List<Double> bw = new ArrayList<>();
      for (int i = 0; i < trace.size(); i++) {
        Collect c = calls.get(i);
        // time to first token, in simulated seconds
        double w = (c.firstNanos - c.startNanos) * SCALE / 1e9;
        (trace.get(i).rc() == ModelScheduler.RequestClass.INTERACTIVE ? iw : bw).add(w);
      }
      long swaps = 0;
      if (host != null) {
        swaps = host.scheduler().snapshot().join().swaps();
        host.close();
      }
      return new Result(sim.counters().loads(), swaps, sorted(iw), sorted(bw), makespan);
    } finally {
      clock.shutdownNow();
    }
  }

  static double[] sorted(List<Double> l) {
    double[] a = l.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(a);
    return a;
  }

  static double pct(double[] a, double p) {
    return a[(int) Math.floor((a.length - 1) * p)];
  }

  @Test
  void schedulerLoadsAtMostHalfAsOftenAsFifoAndServesTheUserFirst() throws Exception {
    Result fifo = replay(false);
    Result sched = replay(true);
    String report = String.format(Locale.ROOT, """
        mixed trace (%d requests: 1 interactive user + 3 agents, 2 models that do not fit together; simulated seconds)
                      loads  swaps  interactive TTFT p50/p95   batch TTFT p50/p95   makespan
          FIFO        %5d      -   %8.1f / %-8.1f     %8.1f / %-8.1f %8.0f
          scheduler   %5d  %5d   %8.1f / %-8.1f     %8.1f / %-8.1f %8.0f
        """, trace().size(),
        fifo.loads(), pct(fifo.interactiveWaits(), .5), pct(fifo.interactiveWaits(), .95),
        pct(fifo.batchWaits(), .5), pct(fifo.batchWaits(), .95), fifo.makespan(),
        sched.loads(), sched.swaps(), pct(sched.interactiveWaits(), .5), pct(sched.interactiveWaits(), .95),
        pct(sched.batchWaits(), .5), pct(sched.batchWaits(), .95), sched.makespan());
    System.out.println(report);
    assertThat(sched.loads()).isLessThanOrEqualTo(fifo.loads() / 2);
    assertThat(pct(sched.interactiveWaits(), .95)).isLessThan(pct(fifo.interactiveWaits(), .95));
  }
}
