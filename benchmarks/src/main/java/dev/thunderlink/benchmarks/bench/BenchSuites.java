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
 * <p>Planned suites, each owned by the module that builds the feature (ids reserved):
 *
 * <ul>
 *   <li>{@code bulk-modes}: the bulk plane per forced mode for a random 1 GiB file and a
 *       compressible source tree ({@code transport/bulk}; {@code throughput} already pushes files
 *       in the mode the sender picks);
 *   <li>{@code sync}: single-edit propagation, initial sync of 20,000 files, convergence after 10
 *       changed files ({@code sync});
 *   <li>{@code scheduler}: the mixed trace of the inference issue, loads and waits ({@code
 *       inference-proxy}).
 * </ul>
 *
 * Each is one class implementing {@link BenchSuite} plus one line in {@link #builtIn()}; the
 * report lists the ones still missing, so no one takes their absence for a result.
 */
public final class BenchSuites {

  /** Suites the issue asks for that are not built yet: id and what it will measure. */
  static final Map<String, String> PLANNED = Map.of(
      "bulk-modes", "bulk plane per forced mode (heap copy, TLS on Thunderbolt) for a 1 GiB file and a"
          + " 20,000-file tree; `throughput` has the modes the sender picks, JMH BulkModeBenchmark each mode",
      "token-stream", "token streaming: time to first token, per-token time",
      "sync", "mirror: single-edit propagation, initial sync, convergence",
      "scheduler", "inference scheduler: mixed trace, loads and waits");

  private BenchSuites() {}

  /** The suites this module builds in ({@code sync} and {@code token-stream} since the mirror and the inference proxy landed). */
  public static List<BenchSuite> builtIn() {
    return List.of(new RoundTripSuite(), new ThroughputSuite(), new SyncSuite(), new TokenStreamSuite());
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
