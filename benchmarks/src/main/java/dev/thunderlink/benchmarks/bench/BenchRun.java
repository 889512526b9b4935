package dev.thunderlink.benchmarks.bench;

import java.time.Clock;
import java.util.List;

/**
 * Runs suites over every path of an environment and collects a {@link BenchResults}: suite by
 * suite, path by path, on the calling thread. A suite that throws on one path has the metrics it
 * had not recorded marked failed with the one-line reason; the run goes on with the next.
 */
final class BenchRun {

  private final BenchEnvironment env;
  private final List<BenchSuite> suites;
  private final BenchBudget budget;
  private final BenchProgress progress;
  private final Clock clock;

  BenchRun(BenchEnvironment env, List<BenchSuite> suites, BenchBudget budget, BenchProgress progress, Clock clock) {
    this.env = env;
    this.suites = List.copyOf(suites);
    this.budget = budget;
    this.progress = progress;
    this.clock = clock;
  }

  BenchResults run() {
    BenchResults results = new BenchResults(clock.instant(), env.mode(), env.description(), budget.full());
    for (BenchTarget t : env.targets()) {
      results.paths.add(new BenchResults.PathInfo(t.name(), t.label(), t.description()));
    }
    warmUp(results);
    for (BenchSuite suite : suites) {
      BenchResults.SuiteResult sr = new BenchResults.SuiteResult(suite);
      results.suites.add(sr);
      long t0 = System.nanoTime();
      boolean hostSide = suite.hostSide() != null;
      List<BenchTarget> targets = hostSide ? env.targets().subList(0, Math.min(1, env.targets().size())) : env.targets();
      for (BenchTarget target : targets) {
        long planned = suite.plannedMillis(budget);
        Recorder rec = new Recorder(sr, hostSide ? BenchResults.HOST : target.name(), hostSide ? "the host side" : target.label());
        progress.phase(suite.title() + (hostSide ? " (host side, once)" : " over " + target.label()));
        try {
          if (!target.awaitUp()) {
            rec.note(target.label() + " had been marked down by the link (a health probe missed its deadline,"
                + " the machine being saturated); " + suite.title() + " started once it was up again");
          }
          suite.run(target, budget, rec);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          rec.failRemaining("interrupted");
          return results;
        } catch (Exception | AssertionError e) {
          rec.failRemaining("failed: " + oneLine(e));
        }
        progress.worked(Math.max(0, planned - rec.worked)); // planned time not reported, if any
      }
      sr.millis = (System.nanoTime() - t0) / 1_000_000;
    }
    results.finished = clock.instant();
    return results;
  }

  /** Planned milliseconds of {@link #warmUp}, all paths together. */
  static long warmUpMillis(BenchBudget budget) {
    return budget.millis(4000);
  }

  /**
   * Link pings over every path, taking turns, before anything is measured, so the JIT has
   * compiled the link's code (gRPC, HTTP/2, TLS) on both sides before the first path's figures
   * are taken; otherwise whichever path goes first (Thunderbolt) looks slower than it is. Seen
   * against a freshly started host daemon: 271 us p50 for the first path after 4 s of warm-up,
   * 67-80 us on every path after 8 s.
   */
  private void warmUp(BenchResults results) {
    long end = System.nanoTime() + warmUpMillis(budget) * 1_000_000;
    long reported = System.nanoTime();
    progress.phase("warm-up: Link Pings over every path");
    List<BenchTarget> alive = new java.util.ArrayList<>(env.targets());
    try {
      do {
        for (BenchTarget t : List.copyOf(alive)) {
          try {
            t.link().ping(null, 100, java.time.Duration.ZERO, 64);
          } catch (RuntimeException e) {
            alive.remove(t);
            results.warnings.add("warm-up over " + t.label() + " failed: " + oneLine(e));
          }
        }
        long now = System.nanoTime();
        progress.worked((now - reported) / 1_000_000);
        reported = now;
      } while (System.nanoTime() < end && !alive.isEmpty());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String oneLine(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
  }

  /** Records one suite's figures for one path. */
  private final class Recorder implements BenchRecorder {
    private final BenchResults.SuiteResult sr;
    private final String column;
    private final String label;
    long worked;

    /** Records into {@code column}: the path's name, or {@link BenchResults#HOST}. */
    Recorder(BenchResults.SuiteResult sr, String column, String label) {
      this.sr = sr;
      this.column = column;
      this.label = label;
    }

    private java.util.Map<String, BenchResults.Cell> byPath(String metricId) {
      sr.metric(metricId); // validates the id
      return sr.cells.get(metricId);
    }

    @Override
    public void value(String metricId, double value, long samples) {
      if (!Double.isFinite(value) || value < 0) {
        throw new IllegalArgumentException(metricId + ": " + value + " (expected: finite and >= 0)");
      }
      byPath(metricId).put(column, BenchResults.Cell.of(value, samples));
    }

    @Override
    public void unavailable(String metricId, String why) {
      byPath(metricId).put(column, BenchResults.Cell.missing(why == null ? "unavailable" : why));
    }

    @Override
    public void note(String text) {
      sr.notes.add(text);
    }

    @Override
    public void phase(String what) {
      progress.phase(what);
    }

    @Override
    public void worked(long millis) {
      if (millis > 0) {
        worked += millis;
        progress.worked(millis);
      }
    }

    void failRemaining(String why) {
      for (var e : sr.cells.entrySet()) {
        e.getValue().putIfAbsent(column, BenchResults.Cell.missing(why));
      }
      sr.notes.add(sr.suite.title() + " over " + label + " " + why);
    }
  }
}
