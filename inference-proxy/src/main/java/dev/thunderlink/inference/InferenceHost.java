package dev.thunderlink.inference;

import dev.thunderlink.inference.internal.FrontServer;
import dev.thunderlink.inference.internal.HostInference;
import dev.thunderlink.inference.internal.InferenceClient;
import dev.thunderlink.inference.internal.InferenceGrpcService;
import dev.thunderlink.inference.internal.ModelScheduler;
import dev.thunderlink.inference.internal.OllamaUpstream;
import dev.thunderlink.inference.internal.OpenAiUpstream;
import dev.thunderlink.inference.internal.Upstream;
import dev.thunderlink.proto.inference.Priority;
import dev.thunderlink.proto.inference.SchedulerStatusResponse;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host side of the inference proxy, stood up in one call: the upstreams (or a simulator),
 * the scheduler, the gRPC service for the link, and the host's own Ollama/OpenAI/Anthropic
 * front for local agents (default 127.0.0.1:11435, batch priority), which reaches the same
 * scheduler through an in-process gRPC channel.
 *
 * <p>Usage by the host daemon:
 * <pre>{@code
 * InferenceHost inference = InferenceHost.start(config);
 * linkServerBuilder.addService(inference.linkService());   // interactive by default
 * ...
 * inference.close();
 * }</pre>
 *
 * <p>With {@link InferenceHostConfig#warmup()}, {@link #startWarmup()} runs a {@link Warmup} in
 * the background, on private servers of its own: nothing of it reaches the upstreams or this
 * scheduler.
 *
 * <p>Thread-safe. Shutdown order in {@link #close}: the warm-up, local front, in-process server, scheduler
 * and upstream clients, simulator.
 */
public final class InferenceHost implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(InferenceHost.class);

  private final InferenceHostConfig config;
  private final OllamaSimulator simulator;
  private final HostInference host;
  private final ScheduledExecutorService timer;
  private final InferenceGrpcService linkService;
  private final Server inProcessServer;
  private final ManagedChannel inProcessChannel;
  private final FrontServer localFront;
  private final Warmup.Slot warmup;

  private InferenceHost(InferenceHostConfig config, OllamaSimulator simulator, HostInference host,
      ScheduledExecutorService timer, Server inProcessServer, ManagedChannel inProcessChannel,
      FrontServer localFront) {
    this.config = config;
    this.simulator = simulator;
    this.host = host;
    this.timer = timer;
    this.linkService = new InferenceGrpcService(host, ModelScheduler.RequestClass.INTERACTIVE);
    this.inProcessServer = inProcessServer;
    this.inProcessChannel = inProcessChannel;
    this.localFront = localFront;
    this.warmup = new Warmup.Slot(config.warmup());
  }

  /**
   * Starts everything. An upstream that does not answer yet is logged, not fatal: its models
   * are learnt on first use.
   *
   * @throws IllegalStateException if a port cannot be bound (with the port in the message)
   */
  public static InferenceHost start(InferenceHostConfig config) {
    return start(config, new io.grpc.ServerInterceptor[0]);
  }

  /**
   * As {@link #start(InferenceHostConfig)}, with {@code localCalls} around the gRPC service the
   * host's own local front calls (in process), as the link server's interceptors are around
   * {@link #linkService()}: the host daemon's shutdown gate, so local agents' streams end with
   * the same reason as the workstation's.
   */
  public static InferenceHost start(InferenceHostConfig config, io.grpc.ServerInterceptor... localCalls) {
    OllamaSimulator sim = null;
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "thunderlink-upstream-timer");
      t.setDaemon(true);
      return t;
    });
    HostInference host = null;
    Server server = null;
    ManagedChannel channel = null;
    try {
      List<Upstream> ups = new ArrayList<>();
      if (config.simulator().isPresent()) {
        sim = OllamaSimulator.start(config.simulator().get());
        log.warn("no model server: using the Ollama SIMULATOR at {} (placeholder text, simulated timing)", sim.baseUri());
        ups.add(new OllamaUpstream("simulator", sim.baseUri(), sim.config().numParallel(),
            config.connectTimeout(), config.headersTimeout(), config.idleTimeout(), timer));
      }
      for (UpstreamConfig u : config.upstreams()) {
        OllamaUpstream http = new OllamaUpstream(u.name(), u.baseUri(), u.parallel(),
            config.connectTimeout(), config.headersTimeout(), config.idleTimeout(), timer);
        ups.add(u.kind() == UpstreamConfig.Kind.OLLAMA ? http : new OpenAiUpstream(http, u.modelSizes()));
      }
      host = new HostInference(ups, config.scheduler(), config.connectTimeout(), config.headersTimeout());
      try {
        host.start().get(config.connectTimeout().toMillis() * 2 + 1000, TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        log.warn("upstreams did not answer at start ({}); models are learnt on first use", e.toString());
      }
      FrontServer front = null;
      if (config.localFront().isPresent()) {
        String name = "thunderlink-inference-" + System.identityHashCode(host);
        server = InProcessServerBuilder.forName(name).directExecutor()
            .addService(io.grpc.ServerInterceptors.intercept(
                new InferenceGrpcService(host, ModelScheduler.RequestClass.BATCH), localCalls))
            .build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        FrontConfig f = config.localFront().get();
        front = FrontServer.start(new FrontServer.Settings(f.bindHost(), f.port(), f.maxBodyBytes(),
            f.bearerToken().orElse(null), !f.allowRemoteClients(),
            f.interactive() ? Priority.PRIORITY_INTERACTIVE : Priority.PRIORITY_BATCH, "host"),
            new InferenceClient(channel));
      }
      return new InferenceHost(config, sim, host, timer, server, channel, front);
    } catch (java.io.IOException | RuntimeException e) {
      if (channel != null) channel.shutdownNow();
      if (server != null) server.shutdownNow();
      if (host != null) host.close();
      if (sim != null) sim.close();
      timer.shutdownNow();
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e);
    }
  }

  /**
   * The methods of {@link #linkService()} whose handlers never block, so a link server may run
   * them on its event loop ({@code LinkServer.Builder#inline}): the token streams, which hand
   * the request to the scheduler and the upstream's event loop and return.
   */
  public static java.util.Set<String> nonBlockingMethods() {
    return java.util.Set.of(
        dev.thunderlink.proto.inference.InferenceGrpc.getChatMethod().getFullMethodName(),
        dev.thunderlink.proto.inference.InferenceGrpc.getGenerateMethod().getFullMethodName());
  }

  /**
   * Starts the JIT warm-up ({@link Warmup}) of {@link InferenceHostConfig#warmup()} requests in
   * the background, once; the host daemon calls it when it is ready (its ports bound), so that
   * the warm-up does not compete with its start for the CPU. Nothing if the configuration has
   * none or the host is closed.
   *
   * @return the warm-up ({@link Warmup#done()} completes when it has ended), or empty
   */
  public Optional<Warmup> startWarmup() {
    return warmup.start();
  }

  /** The warm-up {@link #startWarmup} started, if any. */
  public Optional<Warmup> warmup() {
    return warmup.current();
  }

  /** The gRPC service the host daemon registers on its link server (interactive priority). */
  public BindableService linkService() {
    return linkService;
  }

  /** The simulator, when the host runs one instead of a model server. */
  public Optional<OllamaSimulator> simulator() {
    return Optional.ofNullable(simulator);
  }

  /** Where the host's local front listens, if it has one. */
  public Optional<InetSocketAddress> localFrontAddress() {
    return Optional.ofNullable(localFront).map(FrontServer::address);
  }

  /** The scheduler's state, as {@code thunderlink models} shows it. */
  public SchedulerStatusResponse schedulerStatus() {
    return dev.thunderlink.inference.internal.InferenceGrpcService.statusOf(
        host.scheduler().snapshot().join());
  }

  public InferenceHostConfig config() {
    return config;
  }

  /** Reports every request's queue wait and time to first token to {@code o} (replacing the last). */
  public void observe(InferenceObserver o) {
    host.scheduler().observer(o);
  }

  @Override
  public void close() {
    warmup.close();
    if (localFront != null) {
      localFront.close();
    }
    if (inProcessChannel != null) {
      inProcessChannel.shutdownNow();
    }
    if (inProcessServer != null) {
      inProcessServer.shutdownNow();
    }
    host.close();
    timer.shutdownNow();
    if (simulator != null) {
      simulator.close();
    }
  }
}
