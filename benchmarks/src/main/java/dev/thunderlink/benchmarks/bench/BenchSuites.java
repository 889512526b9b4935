package dev.thunderlink.benchmarks.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The registry of {@link BenchSuite}s {@code thunderlink bench} runs: the built-in ones, then any
 * found through {@link ServiceLoader} on the class path, in that order; ids are unique.
 *
 * <p>The suites are all built in: {@code round-trip}, {@code throughput}, {@code
 * bulk-modes}, {@code sync}, {@code token-stream} and {@code scheduler}. Another is one class
 * implementing {@link BenchSuite} plus one line in {@link #builtIn()}, or a {@link ServiceLoader}
 * entry; the report would list any of the ids missing, so no one takes their absence for a
 * result.
 */
public final class BenchSuites {

  /** Suites the issue asks for: id and what it measures (the report lists any not registered). */
  static final Map<String, String> PLANNED = Map.of(
      "bulk-modes", "bulk plane per forced mode for a random file and a source tree",
      "token-stream", "token streaming: time to first token, per-token time",
      "sync", "mirror: single-edit propagation, initial sync, convergence",
      "scheduler", "inference scheduler: mixed trace, loads and waits");

  private BenchSuites() {}

  /** The suites this module builds in: every one the issue asks for. */
  public static List<BenchSuite> builtIn() {
    return List.of(new RoundTripSuite(), new ThroughputSuite(), new BulkModesSuite(), new SyncSuite(),
        new TokenStreamSuite(), new SchedulerSuite());
  }

  /** Built-in suites, then {@link ServiceLoader} ones, by id. */
  public static Map<String, BenchSuite> all() {
    List<BenchSuite> found = new ArrayList<>(builtIn());
    for (BenchSuite s : ServiceLoader.load(BenchSuite.class)) {
      found.add(s);
    }
    Map<String, BenchSuite> byId = new LinkedHashMap<>();
    for (BenchSuite s : found) {
      if (byId.putIfAbsent(s.id(), s) != null) {
        throw new IllegalStateException("bench suite id: " + s.id() + " (expected: unique; "
            + byId.get(s.id()).getClass().getName() + " and " + s.getClass().getName() + " both use it)");
      }
    }
    return byId;
  }

  /** Ids of {@link #PLANNED} suites that no registered suite provides yet. */
  static List<String> missing(Map<String, BenchSuite> registered) {
    List<String> out = new ArrayList<>();
    for (String id : List.of("bulk-modes", "token-stream", "sync", "scheduler")) {
      if (!registered.containsKey(id)) {
        out.add(id);
      }
    }
    return out;
  }
}
