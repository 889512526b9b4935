package dev.thunderlink.daemon.cli;

import dev.thunderlink.daemon.DaemonOptions;
import dev.thunderlink.daemon.HostDaemon;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.TransportFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code thunderlink serve}: the host daemon, in the foreground until SIGTERM or Ctrl-C. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = "Run the host daemon (Mac mini): listen for the paired workstation.")
public final class ServeCommand implements Callable<Integer> {
  @Mixin HomeOption home;

  @Option(
      names = "--listen",
      paramLabel = "ADDR[:PORT]",
      description = "Address to listen on (repeatable; default 0.0.0.0:" + LinkPath.DEFAULT_PORT + ").")
  List<String> listen = new ArrayList<>();

  @Option(names = "--transport", paramLabel = "NAME", description = "auto (default), kqueue, epoll, io-uring or nio.")
  String transport; // null: from config.toml, else auto

  @Option(names = "--control-port", paramLabel = "PORT", description = "Local control port on 127.0.0.1 (default: any free port).")
  int controlPort;

  @Option(names = "--simulator", description = "Serve models from the built-in Ollama simulator even if a model server answers.")
  boolean simulator;

  @Option(names = "--no-inference", description = "Do not serve models.")
  boolean noInference;

  @Override
  public Integer call() throws Exception {
    java.util.Map<String, Object> flags = new java.util.LinkedHashMap<>();
    if (!listen.isEmpty()) {
      flags.put("host.listen", listen);
    }
    if (transport != null) {
      flags.put("transport.kind", transport);
    }
    dev.thunderlink.daemon.DaemonHome h = home.resolve().ensure();
    dev.thunderlink.daemon.service.DaemonServices svc = dev.thunderlink.daemon.service.DaemonServices.start(h.dir(), flags);
    var cfg = svc.config();
    DaemonOptions options =
        new DaemonOptions(h, TransportFactory.select(cfg.transport().kind()), cfg.host().listen(), List.of(), controlPort, false);
    HostDaemon daemon;
    try {
      daemon =
          new HostDaemon(options)
              .permittedRoots(
                  cfg.bulk().permittedRoots().isEmpty()
                      ? List.of(java.nio.file.Path.of(System.getProperty("user.home")))
                      : cfg.bulk().permittedRoots(),
                  !cfg.bulk().encryptOnThunderbolt())
              .bulkDigest(dev.thunderlink.transport.bulk.BulkConfig.DigestChoice.parse(cfg.bulk().digest()))
              .bulkDiskThreads(cfg.bulk().diskThreadsOrDefault())
              .syncWatcherLatency(java.time.Duration.ofMillis(cfg.sync().watcherLatencyMillis()))
              .tuning(cfg::tuning)
              .inference(noInference ? null : dev.thunderlink.daemon.internal.InferenceSetup.host(cfg.inference(), simulator))
              .metrics(svc.metrics())
              .start();
    } catch (Exception e) {
      svc.close();
      throw e;
    }
    svc.shutdown().register(daemon.shutdownParticipant());
    System.err.println(
        "thunderlink host ready on " + daemon.boundAddresses() + "; pair a workstation with `thunderlink pair`"
            + svc.metricsPort().map(p -> "; metrics on http://127.0.0.1:" + p + "/metrics").orElse(""));
    svc.awaitShutdown(r -> {});
    return 0;
  }
}
