package dev.thunderlink.benchmarks;

import static dev.thunderlink.inference.MixedTrace.Result.quantile;

import dev.thunderlink.inference.MixedTrace;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
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
 * The inference scheduler on the mixed trace of the inference issue ({@link MixedTrace}: one
 * interactive user and three agents on two models that do not fit together), replayed through the
 * real {@code ModelScheduler} in front of a SIMULATED Ollama, or straight to it ({@code
 * policy=fifo}: Ollama's own order). Host side, so no link profile. The score is the real time of
 * one replay (simulated time / {@code scale}); the figures that matter, model loads and the waits
 * for the first token in simulated seconds, are printed after each iteration. {@code thunderlink
 * bench}'s {@code scheduler} suite reports the same replay as a table and a chart.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar SchedulerBenchmark -p scale=200
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms256m", "-Xmx256m"})
public class SchedulerBenchmark {

  @Param({"scheduler", "fifo"})
  public String policy;

  /** Simulated seconds per real second. */
  @Param({"1000"})
  public double scale;

  private List<MixedTrace.Entry> trace;
  private MixedTrace.Result last;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    if (!policy.equals("scheduler") && !policy.equals("fifo")) {
      throw new IllegalArgumentException("policy: " + policy + " (expected: scheduler or fifo)");
    }
    trace = MixedTrace.builtIn();
  }

  /** One replay of the whole trace. */
  @Benchmark
  public MixedTrace.Result replay() throws Exception {
    last = MixedTrace.replay(trace, policy.equals("scheduler"), scale, Duration.ofMinutes(10));
    return last;
  }

  @TearDown(Level.Iteration)
  public void print() {
    if (last != null) {
      System.out.printf(Locale.ROOT, "%n%s: %d loads, %d swaps, interactive wait p50 %.0f s p95 %.0f s,"
          + " agents' wait p50 %.0f s, makespan %.0f s (simulated)%n", policy, last.loads(), last.swaps(),
          quantile(last.interactiveWaits(), .5), quantile(last.interactiveWaits(), .95),
          quantile(last.batchWaits(), .5), last.makespan());
    }
  }
}
