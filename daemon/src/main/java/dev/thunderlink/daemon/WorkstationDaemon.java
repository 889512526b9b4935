package dev.thunderlink.daemon;

import dev.thunderlink.daemon.internal.ControlService;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.LocalControlServer;
import dev.thunderlink.transport.PairedPeer;
import dev.thunderlink.transport.PeerLink;
import io.grpc.Channel;
import io.grpc.ServerServiceDefinition;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workstation daemon (MacBook): the link to the host over every path, and the local
 * control endpoint that {@code status}, {@code ping} and other tools call. Start order:
 * home lock and identity, peer link, control endpoint; close is the reverse.
 */
public final class WorkstationDaemon implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WorkstationDaemon.class);

  /** What clients of the local fronts are told while the workstation daemon stops. */
  public static final String SHUTTING_DOWN = "thunderlink workstation is shutting down; retry after it restarts";

  /** Calls of the local fronts to the host pass here, so shutdown can refuse and end them with a reason. */
  private final dev.thunderlink.transport.ClientCallGate frontCalls = new dev.thunderlink.transport.ClientCallGate();

  private final DaemonOptions options;
  private final List<Function<Channel, ServerServiceDefinition>> controlServices = new ArrayList<>();
  private DaemonRuntime rt;
  private PeerLink link;
  private LocalControlServer control;
  private dev.thunderlink.sync.SyncSessions sync;
  private dev.thunderlink.daemon.internal.BulkFilePusher syncPusher;
  private dev.thunderlink.daemon.internal.SyncControlService syncControl;
  private Thread syncStarter;
  private dev.thunderlink.daemon.metrics.Metrics metrics;
  private dev.thunderlink.inference.FrontConfig frontConfig;
  private dev.thunderlink.inference.InferenceWorkstation inference;
  private java.util.concurrent.ScheduledExecutorService metricsFeed;

  public WorkstationDaemon(DaemonOptions options) {
    this.options = options;
  }

  /**
   * Registers a feature's service on the local control endpoint, built from the channel to
   * the host (before {@link #start()}).
   */
  public WorkstationDaemon addControlService(Function<Channel, ServerServiceDefinition> s) {
    controlServices.add(s);
    return this;
  }

  /** Open the Ollama/OpenAI/Anthropic fronts on this port (before {@link #start()}). */
  public WorkstationDaemon inferenceFront(dev.thunderlink.inference.FrontConfig config) {
    this.frontConfig = config;
    return this;
  }

  public java.util.Optional<dev.thunderlink.inference.InferenceWorkstation> inference() {
    return java.util.Optional.ofNullable(inference);
  }

  /** Threads per bulk connection that write pulled files ({@code bulk.disk_threads}; before {@link #start()}). */
  public WorkstationDaemon bulkDiskThreads(int v) {
    this.bulkDiskThreads = v;
    return this;
  }

  private int bulkDiskThreads = dev.thunderlink.transport.bulk.BulkConfig.defaultDiskThreads();

  /** The link's per-path-kind tuning ({@code [tuning.<kind>]}: buffers, windows, probe timing; before {@link #start()}). */
  public WorkstationDaemon tuning(java.util.function.Function<dev.thunderlink.transport.PathKind, dev.thunderlink.transport.TuningProfile> t) {
    this.tuning = java.util.Objects.requireNonNull(t);
    return this;
  }

  private java.util.function.Function<dev.thunderlink.transport.PathKind, dev.thunderlink.transport.TuningProfile> tuning =
      dev.thunderlink.transport.TuningProfile::defaults;

  /** What every mirror session gets from {@code [sync]} (watcher latency, rescan interval, ignores; before {@link #start()}). */
  public WorkstationDaemon sync(dev.thunderlink.sync.SyncSessions.Defaults d) {
    this.syncDefaults = java.util.Objects.requireNonNull(d);
    return this;
  }

  private dev.thunderlink.sync.SyncSessions.Defaults syncDefaults = dev.thunderlink.sync.SyncSessions.Defaults.ENGINE;

  /** Feed path RTT and state and the sync sessions' numbers into these metrics (before {@link #start()}). */
  public WorkstationDaemon metrics(dev.thunderlink.daemon.metrics.Metrics m) {
    this.metrics = m;
    return this;
  }

  private java.util.Map<String, Double> metricsSummary() {
    return metrics == null ? java.util.Map.of() : metrics.summary();
  }

  private void feedMetrics() {
    if (metrics == null) {
      return;
    }
    dev.thunderlink.daemon.metrics.MetricsFeeder feeder = new dev.thunderlink.daemon.metrics.MetricsFeeder(metrics);
    sync.onPropagated(feeder.syncPropagations());
    metricsFeed =
        dev.thunderlink.daemon.metrics.MetricsFeeder.everySecond(
            () -> {
              feeder.paths(link.paths());
              feeder.sync(sync.list());
            });
  }

  public WorkstationDaemon start() throws IOException {
    rt = new DaemonRuntime(options, "workstation");
    try {
      List<PairedPeer> hosts = rt.peers.peers().stream().filter(p -> p.role().equals("host")).toList();
      if (hosts.isEmpty()) {
        throw new IOException(
            "this workstation is not paired with any host; run `thunderlink pair` on the host, then `thunderlink pair HOST CODE` here");
      }
      PeerLink.Builder pb =
          PeerLink.builder()
              .identity(rt.identity)
              .peers(rt.peers)
              .transport(rt.transport, rt.workers)
              .discover(options.discover());
      for (dev.thunderlink.transport.PathKind k : dev.thunderlink.transport.PathKind.values()) {
        pb.tuning(tuning.apply(k));
      }
      for (LinkPath p : options.paths()) {
        pb.addPath(p);
      }
      link = pb.build().start();
      List<ServerServiceDefinition> cs = new ArrayList<>();
      for (Function<Channel, ServerServiceDefinition> f : controlServices) {
        cs.add(f.apply(link.channel()));
      }
      if (frontConfig != null) {
        try {
          inference =
              dev.thunderlink.inference.InferenceWorkstation.start(
                  frontConfig, io.grpc.ClientInterceptors.intercept(link.channel(), frontCalls));
        } catch (IllegalStateException e) {
          throw new IOException(e.getMessage(), e);
        }
        cs.add(inference.controlService().bindService());
      }
      // the bulk plane over this link: the mirror's file content (falling back to gRPC when it
      // fails) and the copies `thunderlink cp` hands to this daemon
      dev.thunderlink.transport.bulk.BulkClient bulk =
          dev.thunderlink.transport.bulk.BulkClient.forLink(link).identity(rt.identity).peers(rt.peers)
              .transport(rt.transport, rt.workers)
              .config(dev.thunderlink.transport.bulk.BulkConfig.defaults(java.util.List.of()).withDiskThreads(bulkDiskThreads))
              .build();
      syncPusher = new dev.thunderlink.daemon.internal.BulkFilePusher(bulk, link::awaitActive, java.time.Duration.ofSeconds(10));
      sync = new dev.thunderlink.sync.SyncSessions(rt.home.dir(), rt.identity.deviceName(), link.channel(), syncPusher,
          syncDefaults);
      sync.hostAway(link::unreachable);
      syncControl = new dev.thunderlink.daemon.internal.SyncControlService(sync);
      cs.add(syncControl.bindService());
      cs.add(new ControlService(rt, "workstation", link, null, null, java.util.Optional::empty, this::metricsSummary).bindService());
      cs.add(
          new dev.thunderlink.daemon.cp.CpControlService(
                  home -> dev.thunderlink.daemon.cp.CpLink.await(link, bulk, java.time.Duration.ofSeconds(10), () -> { }),
                  rt.home.dir())
              .bindService());
      control =
          new LocalControlServer(rt.home.dir(), options.controlPort(), "workstation", cs, rt.transport, rt.boss, rt.workers)
              .start();
      startSyncSessionsWhenLinked();
      feedMetrics();
      log.info(
          "workstation {} ({}) connecting over {} with {} transport",
          rt.identity.deviceName(),
          rt.identity.deviceId(),
          options.paths(),
          rt.transport);
      if (inference != null) {
        inference.startWarmup(); // ready first: the warm-up does not compete with the start for the CPU
      }
      return this;
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Persisted sync sessions open their remote side over the link, so they start once a path
   * is up, and sessions that fail to start (host unreachable) are retried every two seconds.
   */
  private void startSyncSessionsWhenLinked() {
    Thread t =
        new Thread(
            () -> {
              java.util.Map<String, String> lastFailures = java.util.Map.of();
              while (!Thread.currentThread().isInterrupted() && sync != null) {
                try {
                  if (link.awaitActive(java.time.Duration.ofSeconds(2))) {
                    java.util.Map<String, String> failed = sync.startAll();
                    if (failed.isEmpty()) {
                      return;
                    }
                    if (!failed.equals(lastFailures)) {
                      failed.forEach((name, why) -> log.warn("sync session {} not started yet: {} (retrying)", name, why));
                    }
                    lastFailures = failed;
                    Thread.sleep(2000); // retry pacing
                  }
                } catch (InterruptedException e) {
                  return;
                } catch (IOException | RuntimeException e) {
                  log.warn("starting sync sessions: {}", e.getMessage());
                  try {
                    Thread.sleep(2000); // retry pacing
                  } catch (InterruptedException ie) {
                    return;
                  }
                }
              }
            },
            "thunderlink-sync-starter");
    t.setDaemon(true);
    t.start();
    syncStarter = t;
  }

  public PeerLink link() {
    return link;
  }

  public boolean awaitConnected(Duration timeout) throws InterruptedException {
    return link.awaitActive(timeout);
  }

  /**
   * The workstation's part in a graceful shutdown ({@link dev.thunderlink.daemon.service.ShutdownCoordinator}):
   * new requests to the fronts are answered 503 with {@link #SHUTTING_DOWN}; streams in flight
   * may finish until the deadline; those still running then end with an error line (NDJSON) or
   * error event (SSE) carrying the reason, not a broken connection; then everything closes.
   */
  public dev.thunderlink.daemon.service.ShutdownCoordinator.Participant shutdownParticipant() {
    return dev.thunderlink.daemon.service.ShutdownCoordinator.Participant.of(
        "workstation daemon",
        () -> frontCalls.stopAccepting(SHUTTING_DOWN),
        frontCalls::drained,
        () -> {
          List<String> cut = frontCalls.cut(SHUTTING_DOWN);
          try {
            // the fronts write the error line or event when the call's close reaches them
            frontCalls.drained().get(2, TimeUnit.SECONDS);
          } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            log.warn("{} front call(s) did not end within 2 s of being cut", frontCalls.openCalls());
          }
          return cut;
        },
        () -> close(1, TimeUnit.SECONDS));
  }

  public void close(long grace, TimeUnit unit) {
    try {
      if (control != null) {
        control.close(1, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (inference != null) {
        inference.close();
      }
      if (metricsFeed != null) {
        metricsFeed.shutdownNow();
      }
      if (syncStarter != null) {
        syncStarter.interrupt();
      }
      if (syncControl != null) {
        syncControl.close();
      }
      if (sync != null) {
        try {
          sync.close();
        } catch (IOException e) {
          log.warn("closing sync sessions: {}", e.getMessage());
        }
      }
      if (syncPusher != null) {
        syncPusher.close();
      }
      if (link != null) {
        link.close();
      }
      if (rt != null) {
        rt.close();
      }
    }
  }

  @Override
  public void close() {
    close(5, TimeUnit.SECONDS);
  }
}
