package dev.thunderlink.daemon;

import dev.thunderlink.daemon.internal.ControlService;
import dev.thunderlink.transport.LinkServer;
import dev.thunderlink.transport.LocalControlServer;
import dev.thunderlink.transport.PairingCodes;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.TuningProfile;
import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host daemon (Mac mini): the link port for workstations and the local control
 * endpoint. Start order: home lock and identity, link server, control endpoint. Close
 * order is the reverse; the event loops go last.
 */
public final class HostDaemon implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HostDaemon.class);

  /** What workstations are told, in gRPC statuses and bulk frames, while the host stops. */
  public static final String SHUTTING_DOWN = "thunderlink host is shutting down; retry after it restarts";

  private final DaemonOptions options;
  private final List<BindableService> linkServices = new ArrayList<>();
  private final List<ServerServiceDefinition> controlServices = new ArrayList<>();
  private DaemonRuntime rt;
  private LinkServer link;
  private LocalControlServer control;
  private dev.thunderlink.sync.SyncHostService sync;
  private dev.thunderlink.transport.bulk.BulkServer bulk;
  private dev.thunderlink.inference.InferenceHostConfig inferenceConfig;
  private dev.thunderlink.inference.InferenceHost inference;
  private dev.thunderlink.daemon.metrics.Metrics metrics;
  private java.util.concurrent.ScheduledExecutorService metricsFeed;
  private List<java.nio.file.Path> permittedRoots = List.of(java.nio.file.Path.of(System.getProperty("user.home")));
  private boolean plaintextOnThunderbolt = true;
  private final PairingCodes codes = new PairingCodes(Clock.systemUTC());
  /** Calls of the host's own local front (agents on this machine), gated like the link's at shutdown. */
  private final dev.thunderlink.transport.ServerCallGate localInferenceCalls =
      new dev.thunderlink.transport.ServerCallGate(java.util.Set.of());
  private final java.util.concurrent.atomic.AtomicReference<dev.thunderlink.proto.link.HandshakeRequest> lastWorkstation =
      new java.util.concurrent.atomic.AtomicReference<>();

  public HostDaemon(DaemonOptions options) {
    this.options = options;
  }

  /** Registers a feature's service on the link port (before {@link #start()}). */
  public HostDaemon addLinkService(BindableService s) {
    linkServices.add(s);
    return this;
  }

  /** Registers a feature's service on the local control endpoint (before {@link #start()}). */
  public HostDaemon addControlService(ServerServiceDefinition s) {
    controlServices.add(s);
    return this;
  }

  /** Serve models (upstreams or the simulator) through the scheduler (before {@link #start()}). */
  public HostDaemon inference(dev.thunderlink.inference.InferenceHostConfig config) {
    this.inferenceConfig = config;
    return this;
  }

  /**
   * Feed the bulk plane's bytes per mode and the scheduler's loads and swaps into these
   * metrics once a second, and show them in {@code status} (before {@link #start()}).
   */
  public HostDaemon metrics(dev.thunderlink.daemon.metrics.Metrics m) {
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
    if (inference != null) {
      inference.observe(feeder.inferenceEvents());
    }
    metricsFeed =
        dev.thunderlink.daemon.metrics.MetricsFeeder.everySecond(
            () -> {
              feeder.bulk(bulk.counters().snapshot());
              if (inference != null) {
                feeder.scheduler(inference.schedulerStatus());
              }
            });
  }

  /**
   * Where the workstation may read and write through `thunderlink cp` and open mirror
   * sessions (before {@link #start()}).
   */
  public HostDaemon permittedRoots(List<java.nio.file.Path> roots, boolean plaintextOnThunderbolt) {
    this.permittedRoots = List.copyOf(roots);
    this.plaintextOnThunderbolt = plaintextOnThunderbolt;
    return this;
  }

  /** The content hash of the bulk plane ({@code bulk.digest}; before {@link #start()}). */
  public HostDaemon bulkDigest(dev.thunderlink.transport.bulk.BulkConfig.DigestChoice v) {
    this.bulkDigest = java.util.Objects.requireNonNull(v);
    return this;
  }

  private dev.thunderlink.transport.bulk.BulkConfig.DigestChoice bulkDigest =
      dev.thunderlink.transport.bulk.BulkConfig.DigestChoice.AUTO;

  /** Threads per bulk connection that write received files ({@code bulk.disk_threads}; before {@link #start()}). */
  public HostDaemon bulkDiskThreads(int v) {
    this.bulkDiskThreads = v;
    return this;
  }

  private int bulkDiskThreads = dev.thunderlink.transport.bulk.BulkConfig.defaultDiskThreads();

  /** The listener's tuning by path kind ({@code [tuning.<kind>]}; before {@link #start()}). */
  public HostDaemon tuning(java.util.function.Function<PathKind, TuningProfile> t) {
    this.tuning = java.util.Objects.requireNonNull(t);
    return this;
  }

  private java.util.function.Function<PathKind, TuningProfile> tuning = TuningProfile::defaults;

  /** The mirror's FSEvents latency on macOS ({@code sync.watcher_latency_ms}; before {@link #start()}). */
  public HostDaemon syncWatcherLatency(java.time.Duration d) {
    this.syncWatcherLatency = java.util.Objects.requireNonNull(d); // checked by the sync host service
    return this;
  }

  private java.time.Duration syncWatcherLatency = dev.thunderlink.sync.SyncSessionConfig.DEFAULT_MACOS_LATENCY;

  private dev.thunderlink.transport.bulk.BulkConfig bulkConfig() {
    return dev.thunderlink.transport.bulk.BulkConfig.defaults(permittedRoots)
        .withPlaintextOnThunderbolt(plaintextOnThunderbolt)
        .withDigest(bulkDigest)
        .withDiskThreads(bulkDiskThreads);
  }

  public HostDaemon start() throws IOException {
    rt = new DaemonRuntime(options, "host");
    try {
      List<InetSocketAddress> listen = options.listen();
      PathKind kind = PathKind.infer("", listen.get(0).getAddress());
      LinkServer.Builder lb =
          LinkServer.builder()
              .identity(rt.identity)
              .peers(rt.peers)
              .pairingCodes(codes)
              .transport(rt.transport, rt.boss, rt.workers)
              .listen(listen)
              .tuning(tuning.apply(kind == PathKind.WIFI || kind == PathKind.LAN ? PathKind.THUNDERBOLT : kind))
              .onHandshake(
                  r -> {
                    lastWorkstation.set(r);
                    log.info("handshake from workstation {} ({}) on path {}", r.getDeviceName(), r.getDeviceId(), r.getPathName());
                  })
              // a mirror's watch never ends by itself: shutdown cuts it at once, not at the deadline
              .subscription(dev.thunderlink.proto.sync.SyncEndpointGrpc.getWatchMethod().getFullMethodName());
      linkServices.forEach(lb::addService);
      // Bulk plane on the same port. The peer may write only under the permitted roots
      // (default: this user's home directory); plaintext only on Thunderbolt/loopback paths.
      bulk = new dev.thunderlink.transport.bulk.BulkServer(bulkConfig(), rt.peers);
      lb.bulk(bulk).addService(bulk.controlService());
      if (inferenceConfig != null) {
        try {
          inference = dev.thunderlink.inference.InferenceHost.start(inferenceConfig, localInferenceCalls);
        } catch (IllegalStateException e) {
          throw new IOException("inference: " + e.getMessage(), e);
        }
        lb.addService(inference.linkService())
            .inline(dev.thunderlink.inference.InferenceHost.nonBlockingMethods());
      }
      sync =
          new dev.thunderlink.sync.SyncHostService(
              rt.home.dir().resolve("sync-host"), rt.identity.deviceName(), true, syncWatcherLatency,
              permittedRoots, dev.thunderlink.transport.PeerContext::deviceId);
      // pushes the bulk plane verified are installed by the mirror without hashing them again
      bulk.onStagedVerified(dev.thunderlink.sync.SyncHostService.LARGEST_TRUSTED_COPY, sync::stagedCopyVerified);
      lb.addService(sync);
      link = lb.build().start();
      List<ServerServiceDefinition> cs = new ArrayList<>(controlServices);
      if (inference != null) {
        cs.add(inference.linkService().bindService()); // `thunderlink models` on the host
      }
      cs.add(new ControlService(rt, "host", null, link, codes, () -> java.util.Optional.ofNullable(lastWorkstation.get()), this::metricsSummary)
              .tuning(tuning).bindService());
      control =
          new LocalControlServer(rt.home.dir(), options.controlPort(), "host", cs, rt.transport, rt.boss, rt.workers)
              .start();
      feedMetrics();
      log.info(
          "host {} ({}) listening on {} with {} transport, TLS {}",
          rt.identity.deviceName(),
          rt.identity.deviceId(),
          link.boundAddresses(),
          rt.transport,
          dev.thunderlink.transport.TlsContexts.providerDescription());
      if (inference != null) {
        inference.startWarmup(); // ready first: the warm-up does not compete with the start for the CPU
      }
      return this;
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  public List<InetSocketAddress> boundAddresses() {
    return link.boundAddresses();
  }

  public PairingCodes pairingCodes() {
    return codes;
  }

  public String deviceId() {
    return rt.identity.deviceId();
  }

  /**
   * The host's part in a graceful shutdown ({@link dev.thunderlink.daemon.service.ShutdownCoordinator}):
   * stop accepting — new gRPC calls get {@code UNAVAILABLE} with {@link #SHUTTING_DOWN} (the port
   * stays open so the workstation hears why), new bulk connections an ERROR frame with it, a
   * mirror's watch is ended with it; drain — calls and bulk transfers in flight may finish
   * until the coordinator's deadline; force — the bulk connections still open get an ERROR
   * frame with the reason (receivers keep the unfinished files, so the copy resumes when run
   * again) and the calls still open are closed with the same status, so token streams end with
   * that error on the workstation's fronts instead of a broken connection (the host's own local
   * front, for agents on this machine, is gated the same way); close — the rest.
   */
  public dev.thunderlink.daemon.service.ShutdownCoordinator.Participant shutdownParticipant() {
    return dev.thunderlink.daemon.service.ShutdownCoordinator.Participant.of(
        "host daemon",
        () -> {
          log.info("shutting down: refusing new calls and transfers; {} call(s) in flight", link.gate().openCalls());
          link.gate().stopAccepting(SHUTTING_DOWN);
          localInferenceCalls.stopAccepting(SHUTTING_DOWN);
          bulk.stopAccepting(SHUTTING_DOWN);
        },
        () -> java.util.concurrent.CompletableFuture.allOf(link.gate().drained(), localInferenceCalls.drained(), bulk.drained()),
        () -> {
          List<String> cut = new ArrayList<>(bulk.abortAll(SHUTTING_DOWN));
          cut.addAll(link.gate().cut(SHUTTING_DOWN));
          cut.addAll(localInferenceCalls.cut(SHUTTING_DOWN));
          return cut;
        },
        () -> close(1, TimeUnit.SECONDS));
  }

  /** Graceful within {@code grace}, then forced. */
  public void close(long grace, TimeUnit unit) {
    try {
      if (metricsFeed != null) {
        metricsFeed.shutdownNow();
      }
      if (control != null) {
        control.close(1, TimeUnit.SECONDS);
      }
      // at most 2 s: a client pushing a file reads the ERROR only once its event loop has run its
      // queued writes (Netty's task quantum is 1 s), and one that misses it says "connection lost"
      if (bulk != null && !bulk.awaitClosed(java.time.Duration.ofSeconds(2))) {
        log.info("shutdown: a bulk connection had not hung up after its ERROR frame; closing it");
      }
      if (link != null) {
        link.close(grace, unit);
      }
      if (sync != null) {
        sync.close();
      }
      if (inference != null) {
        inference.close();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
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
