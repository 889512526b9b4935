package dev.thunderlink.daemon.metrics;

import dev.thunderlink.proto.inference.LoadedModel;
import dev.thunderlink.proto.inference.SchedulerStatusResponse;
import dev.thunderlink.sync.SyncStatus;
import dev.thunderlink.transport.bulk.BulkCounters;
import dev.thunderlink.transport.bulk.TransferMode;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns the modules' cumulative counters (bulk-plane bytes, scheduler loads and swaps, sync
 * sessions' conflicts and errors) into {@link Metrics} updates by polling: each call adds the
 * change since the previous call. A counter that went down (a session restarted) counts its
 * whole new value.
 *
 * <p>Events that carry a duration (queue waits, time to first token, sync propagation) are not
 * polled: {@link #inferenceEvents()} and {@link #syncPropagations()} hand them to the histograms
 * as they happen.
 *
 * <p>Not thread-safe: one feed thread (the daemon's {@code thunderlink-metrics-feed}) calls the
 * polling methods. The event adapters are thread-safe ({@link Metrics} is) and run on the
 * threads that report the events.
 */
public final class MetricsFeeder {
  /** Label for a load whose model left the loaded set before the next poll saw it. */
  public static final String UNKNOWN_MODEL = "unknown";

  private final Metrics metrics;
  private final Map<TransferMode, Long> bulkBytes = new EnumMap<>(TransferMode.class);
  private long bulkFailed;
  private long loads;
  private long swaps;
  private long inferenceFailed;
  private Set<String> loaded = Set.of();
  private final Map<String, Long> conflicts = new HashMap<>();
  private final Map<String, Set<String>> pathErrors = new HashMap<>();
  private final Map<String, String> lastErrors = new HashMap<>();
  private final Map<String, String> states = new HashMap<>();

  /**
   * Runs {@code poll} once a second on its own daemon thread until the returned executor is
   * shut down; a failing poll is logged and the schedule goes on.
   */
  public static java.util.concurrent.ScheduledExecutorService everySecond(Runnable poll) {
    java.util.concurrent.ScheduledExecutorService ex =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "thunderlink-metrics-feed");
              t.setDaemon(true);
              return t;
            });
    ex.scheduleWithFixedDelay(
        () -> {
          try {
            poll.run();
          } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(MetricsFeeder.class).warn("feeding metrics: {}", e.toString());
          }
        },
        1,
        1,
        java.util.concurrent.TimeUnit.SECONDS);
    return ex;
  }

  /** Each path's smoothed RTT and whether it is active, standing by, or down. */
  public void paths(java.util.List<dev.thunderlink.transport.PathSnapshot> paths) {
    for (dev.thunderlink.transport.PathSnapshot p : paths) {
      if (p.rttMicros() >= 0) {
        metrics.pathRtt(p.path().name(), java.time.Duration.ofNanos(p.rttMicros() * 1000));
      }
      metrics.pathState(
          p.path().name(),
          p.active()
              ? Metrics.PathState.ACTIVE
              : p.state() == dev.thunderlink.transport.PathState.UP ? Metrics.PathState.STANDBY : Metrics.PathState.DOWN);
    }
  }

  public MetricsFeeder(Metrics metrics) {
    this.metrics = metrics;
  }

  /** For {@code InferenceHost.observe}: queue waits by class, time to first token by model. */
  public dev.thunderlink.inference.InferenceObserver inferenceEvents() {
    return new dev.thunderlink.inference.InferenceObserver() {
      @Override
      public void queueWait(String model, String requestClass, java.time.Duration waited) {
        metrics.queueWait(requestClass, waited);
      }

      @Override
      public void firstToken(String model, String requestClass, java.time.Duration sinceArrival) {
        metrics.timeToFirstToken(model, sinceArrival);
      }
    };
  }

  /** For {@code SyncSessions.onPropagated}: one observation per path a mirror applied. */
  public java.util.function.Consumer<java.time.Duration> syncPropagations() {
    return metrics::syncPropagated;
  }

  /** Bytes per mode (payload bytes, both directions) and failed files of the bulk plane. */
  public void bulk(BulkCounters.Snapshot s) {
    for (Map.Entry<TransferMode, Long> e : s.payloadBytes().entrySet()) {
      long d = delta(bulkBytes.getOrDefault(e.getKey(), 0L), e.getValue());
      bulkBytes.put(e.getKey(), e.getValue());
      if (d > 0) {
        metrics.bytesSent(modeOf(e.getKey()), d);
      }
    }
    long f = delta(bulkFailed, s.failedFiles());
    bulkFailed = s.failedFiles();
    for (long i = 0; i < f; i++) {
      metrics.error("transfer_failed");
    }
  }

  /**
   * Model loads and swaps, labelled with the models that newly appeared in the loaded set;
   * loads the poll could not attribute are labelled {@value #UNKNOWN_MODEL}.
   */
  public void scheduler(SchedulerStatusResponse s) {
    Set<String> now = new HashSet<>();
    for (LoadedModel m : s.getLoadedList()) {
      now.add(m.getName());
    }
    List<String> appeared = new ArrayList<>();
    for (LoadedModel m : s.getLoadedList()) {
      if (!loaded.contains(m.getName())) {
        appeared.add(m.getName());
      }
    }
    long newLoads = delta(loads, s.getLoads());
    long newSwaps = Math.min(delta(swaps, s.getSwaps()), newLoads);
    loads = s.getLoads();
    swaps = s.getSwaps();
    loaded = now;
    for (long i = 0; i < newLoads; i++) {
      String model = i < appeared.size() ? appeared.get((int) i) : UNKNOWN_MODEL;
      if (i < newSwaps) {
        metrics.modelSwapped(model);
      } else {
        metrics.modelLoaded(model);
      }
    }
    long f = delta(inferenceFailed, s.getFailed());
    inferenceFailed = s.getFailed();
    for (long i = 0; i < f; i++) {
      metrics.error("inference_failed");
    }
  }

  /**
   * Conflicts, pending work (plan operations not yet applied, summed over sessions) and
   * errors: a new per-path problem ({@code sync_path}), a new session error
   * ({@code sync_session}), a session entering HALTED ({@code sync_halted}).
   */
  public void sync(List<SyncStatus> sessions) {
    long pending = 0;
    for (SyncStatus s : sessions) {
      long c = delta(conflicts.getOrDefault(s.name(), 0L), s.conflicts());
      conflicts.put(s.name(), s.conflicts());
      for (long i = 0; i < c; i++) {
        metrics.conflict();
      }
      Set<String> before = pathErrors.getOrDefault(s.name(), Set.of());
      for (String path : s.errors().keySet()) {
        if (!before.contains(path)) {
          metrics.error("sync_path");
        }
      }
      pathErrors.put(s.name(), Set.copyOf(s.errors().keySet()));
      String lastError = s.lastError() == null ? "" : s.lastError();
      if (!lastError.isEmpty() && !lastError.equals(lastErrors.get(s.name()))) {
        metrics.error("sync_session");
      }
      lastErrors.put(s.name(), lastError);
      if ("HALTED".equals(s.state()) && !"HALTED".equals(states.get(s.name()))) {
        metrics.error("sync_halted");
      }
      states.put(s.name(), s.state());
      pending += Math.max(0, s.planOps() - s.planOpsDone());
    }
    metrics.pendingChanges(pending);
  }

  static Metrics.SendMode modeOf(TransferMode m) {
    return switch (m) {
      case ZERO_COPY -> Metrics.SendMode.ZERO_COPY;
      case LZ4 -> Metrics.SendMode.LZ4;
      case HEAP -> Metrics.SendMode.PLAIN;
      case TLS -> Metrics.SendMode.TLS;
    };
  }

  private static long delta(long before, long now) {
    return now >= before ? now - before : now;
  }
}
