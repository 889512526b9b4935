package dev.thunderlink.benchmarks.bench;

import static dev.thunderlink.inference.MixedTrace.Result.quantile;

import dev.thunderlink.inference.MixedTrace;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * {@code scheduler}: the inference issue's mixed trace (an interactive user and three agents on two
 * models that do not fit in memory together) replayed through the host's real {@code
 * ModelScheduler} in front of a SIMULATED Ollama, beside the same trace sent straight to the
 * simulator (Ollama alone: first come, first served). Counts model loads and swaps and the waits for
 * the first token, in simulated seconds ({@link MixedTrace}).
 *
 * <p>Host side: nothing crosses the link, so it runs once ({@link #hostSide()}), on this machine,
 * whatever the paths are.
 */
final class SchedulerSuite implements BenchSuite {

  @Override
  public String id() {
    return "scheduler";
  }

  @Override
  public String title() {
    return "Inference scheduler";
  }

  @Override
  public String description() {
    return "The mixed trace of the inference issue (one interactive user and three agents, 82 requests"
        + " over ten minutes, two models of 20 and 42 GB that do not fit in 48 GB together) replayed"
        + " against a SIMULATED Ollama on a 64 GB Mac mini, time-scaled: through the host's scheduler"
        + " (groups by model, interactive first, aging) beside straight to the simulator (Ollama's own"
        + " first-come-first-served order). Waits are the time from a request's arrival to its first"
        + " token, in simulated seconds. Lower is better.";
  }

  @Override
  public HostSide hostSide() {
    return new HostSide("thunderlink scheduler", "plain FIFO (Ollama alone)");
  }

  @Override
  public List<BenchMetric> metrics() {
    return List.of(
        BenchMetric.measured("loads", "model loads", "count", false, "fifo-loads"),
        BenchMetric.measured("swaps", "swaps (a load that evicts another model)", "count", false, "fifo-swaps"),
        BenchMetric.measured("interactive-p50", "interactive wait for first token, p50", "s", false, "fifo-interactive-p50"),
        BenchMetric.measured("interactive-p95", "interactive wait for first token, p95", "s", false, "fifo-interactive-p95"),
        BenchMetric.measured("batch-p50", "agents' wait for first token, p50", "s", false, "fifo-batch-p50"),
        BenchMetric.measured("makespan", "whole trace done after", "s", false, "fifo-makespan"),
        BenchMetric.limit("fifo-loads", "FIFO: model loads", "count", false),
        BenchMetric.limit("fifo-swaps", "FIFO: swaps", "count", false),
        BenchMetric.limit("fifo-interactive-p50", "FIFO: interactive wait p50", "s", false),
        BenchMetric.limit("fifo-interactive-p95", "FIFO: interactive wait p95", "s", false),
        BenchMetric.limit("fifo-batch-p50", "FIFO: agents' wait p50", "s", false),
        BenchMetric.limit("fifo-makespan", "FIFO: whole trace done after", "s", false));
  }

  /**
   * Simulated seconds per real second: 1,000 in the short run (the trace and its FIFO twin take some
   * 7 s), 200 with {@code --full} (finer: 1 ms of real jitter is 0.2 simulated seconds); coarser for
   * tiny test budgets, never above 2,000: at 5,000 the scheduler's timers (5 s of linger is 1 ms)
   * drown in thread wake-up jitter and it loaded more often than FIFO here, so it is no faster.
   */
  static double scale(BenchBudget budget) {
    return Math.min(2000, 1000 / budget.factor());
  }

  @Override
  public long plannedMillis(BenchBudget budget) {
    // each replay lasts its makespan: measured here 2,700-4,500 simulated seconds under load
    return (long) (7000 * 1000 / scale(budget)) + 500;
  }

  @Override
  public void run(BenchTarget target, BenchBudget budget, BenchRecorder recorder) throws Exception {
    List<MixedTrace.Entry> trace = MixedTrace.builtIn();
    double scale = scale(budget);
    recorder.phase("scheduler: the mixed trace straight to the simulator (FIFO)");
    long t0 = System.nanoTime();
    MixedTrace.Result fifo = MixedTrace.replay(trace, false, scale, Duration.ofMinutes(5));
    recorder.worked((System.nanoTime() - t0) / 1_000_000);
    recorder.phase("scheduler: the mixed trace through the scheduler");
    t0 = System.nanoTime();
    MixedTrace.Result sched = MixedTrace.replay(trace, true, scale, Duration.ofMinutes(5));
    recorder.worked((System.nanoTime() - t0) / 1_000_000);
    record(recorder, "", sched, trace.size());
    record(recorder, "fifo-", fifo, trace.size());
    recorder.note(String.format(Locale.ROOT, "%d requests replayed at %.0f simulated seconds per real second"
        + " (1 ms of real jitter = %.1f simulated s); the simulator spent %.0f s loading models under the"
        + " scheduler, %.0f s under FIFO", trace.size(), scale, scale / 1000, sched.loadSeconds(), fifo.loadSeconds()));
  }

  private static void record(BenchRecorder recorder, String prefix, MixedTrace.Result r, int requests) {
    recorder.value(prefix + "loads", r.loads(), requests);
    recorder.value(prefix + "swaps", r.swaps(), requests);
    recorder.value(prefix + "interactive-p50", quantile(r.interactiveWaits(), .5), r.interactiveWaits().length);
    recorder.value(prefix + "interactive-p95", quantile(r.interactiveWaits(), .95), r.interactiveWaits().length);
    recorder.value(prefix + "batch-p50", quantile(r.batchWaits(), .5), r.batchWaits().length);
    recorder.value(prefix + "makespan", r.makespan(), requests);
  }
}
