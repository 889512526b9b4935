package dev.thunderlink.daemon.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.StateSet;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Duration;
import java.util.Locale;

/**
 * The daemon's named metrics, fed by the modules through small typed methods and exposed in
 * Prometheus text format by {@link MetricsEndpoint}; {@code status} reads the same numbers
 * back through the getters, so the two never disagree.
 *
 * <p>Built on the Prometheus project's own Java client (prometheus-metrics-core 1.x): it is
 * maintained by the Prometheus authors, writes the text format natively and ships a tiny
 * JDK-HttpServer exporter. Micrometer would add a vendor-neutral facade and name translation
 * that thunderlink does not need, since Prometheus text is the only output.
 *
 * <p>Thread-safe: every method may be called from any thread, including Netty event loops
 * (updates are lock-free adders; nothing blocks). Label values are bounded by configuration
 * (path names, model names, priority classes, the fixed {@link SendMode} and error kinds).
 * Each instance has its own registry, so tests and two daemons in one JVM do not collide.
 */
public final class Metrics {
  /** How bulk bytes went on the wire. */
  public enum SendMode {
    ZERO_COPY,
    LZ4,
    PLAIN,
    /** Raw bytes inside TLS (a path that encrypts the bulk plane). */
    TLS,
    GRPC;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A path's state as the path selector sees it. */
  public enum PathState {
    ACTIVE,
    STANDBY,
    DOWN;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final String[] PATH_STATES = {"active", "standby", "down"};

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Gauge pathRtt =
      Gauge.builder().name("thunderlink_path_rtt_seconds").help("Last measured round-trip time of each path.")
          .unit(Unit.SECONDS).labelNames("path").register(registry);
  private final StateSet pathState =
      StateSet.builder().name("thunderlink_path_state").help("State of each path: active (carrying traffic), standby or down.")
          .states(PATH_STATES).labelNames("path").register(registry);
  private final Counter bytesSent =
      Counter.builder().name("thunderlink_sent").help("File bytes the bulk plane carried to or from the peer, by how they went on the wire.")
          .unit(Unit.BYTES).labelNames("mode").register(registry);
  private final Histogram syncPropagation =
      Histogram.builder().name("thunderlink_sync_propagation_seconds")
          .help("From the workstation's mirror session noticing a change (a side's watcher reporting it, after its debounce;"
              + " or the start of the rescan or flush cycle that found it) to the other side confirming the apply; one per path applied.")
          .unit(Unit.SECONDS).classicOnly()
          .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30).register(registry);
  private final Gauge pendingChanges =
      Gauge.builder().name("thunderlink_sync_pending_changes").help("Changes seen but not yet propagated.").register(registry);
  private final Counter conflicts =
      Counter.builder().name("thunderlink_sync_conflicts").help("Files both sides changed (a conflict copy was kept).").register(registry);
  private final Histogram timeToFirstToken =
      Histogram.builder().name("thunderlink_inference_time_to_first_token_seconds")
          .help("From a chat or generate request reaching the host's inference service to the upstream's first streamed chunk,"
              + " by model (host side: includes queueing and model loads; excludes the link and the workstation's front).")
          .unit(Unit.SECONDS).classicOnly()
          .classicUpperBounds(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60).labelNames("model").register(registry);
  private final Histogram queueWait =
      Histogram.builder().name("thunderlink_inference_queue_wait_seconds")
          .help("Time a request waited in the host's model scheduler before going to its upstream, by priority class.")
          .unit(Unit.SECONDS).classicOnly()
          .classicUpperBounds(0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300).labelNames("class").register(registry);
  private final Counter modelLoads =
      Counter.builder().name("thunderlink_inference_model_loads").help("Model loads, by model.").labelNames("model").register(registry);
  private final Counter modelSwaps =
      Counter.builder().name("thunderlink_inference_model_swaps").help("Loads that had to unload another model first.").register(registry);
  private final Counter errors =
      Counter.builder().name("thunderlink_errors").help("Errors, by kind.").labelNames("kind").register(registry);

  /** The registry the endpoint scrapes. */
  public PrometheusRegistry registry() {
    return registry;
  }

  public void pathRtt(String path, Duration rtt) {
    pathRtt.labelValues(path).set(seconds(rtt));
  }

  public void pathState(String path, PathState state) {
    for (String s : PATH_STATES) {
      if (s.equals(state.label())) {
        pathState.labelValues(path).setTrue(s);
      } else {
        pathState.labelValues(path).setFalse(s);
      }
    }
  }

  public void bytesSent(SendMode mode, long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes: " + bytes + " (expected: >= 0)");
    }
    bytesSent.labelValues(mode.label()).inc(bytes);
  }

  public void syncPropagated(Duration latency) {
    syncPropagation.observe(seconds(latency));
  }

  public void pendingChanges(long count) {
    pendingChanges.set(count);
  }

  public void conflict() {
    conflicts.inc();
  }

  public void timeToFirstToken(String model, Duration d) {
    timeToFirstToken.labelValues(model).observe(seconds(d));
  }

  public void queueWait(String priorityClass, Duration d) {
    queueWait.labelValues(priorityClass).observe(seconds(d));
  }

  public void modelLoaded(String model) {
    modelLoads.labelValues(model).inc();
  }

  /** A load that first unloaded another model. Counted as a load of {@code loaded} too. */
  public void modelSwapped(String loaded) {
    modelSwaps.inc();
    modelLoads.labelValues(loaded).inc();
  }

  /** An error of a kind such as {@code path_down}, {@code transfer_failed}, {@code upstream_unavailable}. */
  public void error(String kind) {
    errors.labelValues(kind).inc();
  }

  // ---- read back, for `status` ------------------------------------------------------

  public double pathRttSeconds(String path) {
    return pathRtt.labelValues(path).get();
  }

  public long bytesSent(SendMode mode) {
    return bytesSent.labelValues(mode.label()).getLongValue();
  }

  public long pendingChanges() {
    return (long) pendingChanges.get();
  }

  public long conflicts() {
    return conflicts.getLongValue();
  }

  public long modelSwaps() {
    return modelSwaps.getLongValue();
  }

  public long errors(String kind) {
    return errors.labelValues(kind).getLongValue();
  }

  /**
   * Every current value, flattened for {@code status --json} under the names /metrics uses:
   * counters as {@code name_total{label="value"}}, gauges as {@code name{label="value"}}, histograms as {@code name_count} and {@code name_sum},
   * state sets as one 0/1 entry per state. Keys are sorted.
   */
  public java.util.SortedMap<String, Double> summary() {
    java.util.SortedMap<String, Double> m = new java.util.TreeMap<>();
    for (io.prometheus.metrics.model.snapshots.MetricSnapshot ms : registry.scrape()) {
      String name = ms.getMetadata().getPrometheusName();
      for (io.prometheus.metrics.model.snapshots.DataPointSnapshot dp : ms.getDataPoints()) {
        String labels = labels(dp.getLabels(), null);
        if (dp instanceof io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot c) {
          m.put(name + "_total" + labels, c.getValue());
        } else if (dp instanceof io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot g) {
          m.put(name + labels, g.getValue());
        } else if (dp instanceof io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot h) {
          m.put(name + "_count" + labels, (double) h.getCount());
          m.put(name + "_sum" + labels, h.getSum());
        } else if (dp instanceof io.prometheus.metrics.model.snapshots.StateSetSnapshot.StateSetDataPointSnapshot st) {
          for (int i = 0; i < st.size(); i++) {
            m.put(name + labels(dp.getLabels(), st.getName(i)), st.isTrue(i) ? 1.0 : 0.0);
          }
        }
      }
    }
    return m;
  }

  private static String labels(io.prometheus.metrics.model.snapshots.Labels labels, String state) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < labels.size(); i++) {
      b.append(b.length() == 0 ? "{" : ",").append(labels.getName(i)).append("=\"").append(labels.getValue(i)).append('"');
    }
    if (state != null) {
      b.append(b.length() == 0 ? "{" : ",").append("state=\"").append(state).append('"');
    }
    return b.length() == 0 ? "" : b.append('}').toString();
  }

  private static double seconds(Duration d) {
    return d.toNanos() / 1e9;
  }
}
