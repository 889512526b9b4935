package dev.thunderlink.daemon.cli;

import dev.thunderlink.daemon.DaemonHome;
import dev.thunderlink.daemon.DaemonOptions;
import dev.thunderlink.daemon.WorkstationDaemon;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.TransportFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code thunderlink connect}: the workstation daemon, in the foreground. */
@Command(
    name = "connect",
    mixinStandardHelpOptions = true,
    description = {
      "Run the workstation daemon (MacBook), linked to the paired host on every path.",
      "Example:",
      "  thunderlink connect --path tb=169.254.3.7:7420 --path wifi=192.168.1.20:7420"
    })
public final class ConnectCommand implements Callable<Integer> {
  @Mixin HomeOption home;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "HOST[:PORT]",
      description = "The host (default: the addresses recorded when pairing).")
  String host;

  @Option(names = "--path", paramLabel = "NAME=ADDR[:PORT]", description = "A named path to the host (repeatable).")
  List<String> pathSpecs = new ArrayList<>();

  @Option(names = "--discover", negatable = true, description = "Also use host addresses learned in the handshake (default: on macOS).")
  Boolean discover;

  @Option(names = "--transport", paramLabel = "NAME", description = "auto (default), kqueue, epoll, io-uring or nio.")
  String transport; // null: from config.toml, else auto

  @Option(names = "--control-port", paramLabel = "PORT", description = "Local control port on 127.0.0.1 (default: any free port).")
  int controlPort;

  @Option(names = "--api-port", paramLabel = "PORT", description = "Local port of the Ollama/OpenAI/Anthropic fronts (default 11434, or inference.api_port).")
  Integer apiPort;

  @Option(names = "--no-inference", description = "Do not open the inference fronts.")
  boolean noInference;

  @Override
  public Integer call() throws Exception {
    DaemonHome h = home.resolve().ensure();
    java.util.Map<String, Object> flags = new java.util.LinkedHashMap<>();
    if (transport != null) {
      flags.put("transport.kind", transport);
    }
    if (discover != null) {
      flags.put("workstation.discover", discover);
    }
    if (apiPort != null) {
      flags.put("inference.api_port", apiPort);
    }
    dev.thunderlink.daemon.service.DaemonServices svc = dev.thunderlink.daemon.service.DaemonServices.start(h.dir(), flags);
    var cfg = svc.config();
    List<LinkPath> paths = new ArrayList<>();
    if (host != null) {
      InetSocketAddress a = LinkPath.parseHostPort(host, LinkPath.DEFAULT_PORT, "HOST");
      paths.add(new LinkPath("default", a, PathKind.infer("", a.getAddress())));
    }
    for (String spec : pathSpecs) {
      paths.add(LinkPath.parse(spec));
    }
    paths = cfg.workstation().choose(paths, h.peers().peers());
    if (paths.isEmpty()) {
      throw new IllegalArgumentException("HOST: missing (expected: thunderlink connect HOST[:PORT] or --path NAME=ADDR:PORT)");
    }
    boolean disc =
        discover != null
            ? discover
            : cfg.workstation().discover() || System.getProperty("os.name", "").toLowerCase().contains("mac");
    DaemonOptions options =
        new DaemonOptions(h, TransportFactory.select(cfg.transport().kind()), List.of(), paths, controlPort, disc);
    WorkstationDaemon daemon;
    try {
      daemon =
          new WorkstationDaemon(options)
              .metrics(svc.metrics())
              .bulkDiskThreads(cfg.bulk().diskThreadsOrDefault())
              .sync(cfg.sync().sessionDefaults())
              .tuning(cfg::tuning)
              .inferenceFront(
                  noInference
                      ? null
                      : dev.thunderlink.inference.FrontConfig.builder()
                          .port(cfg.inference().apiPort())
                          .warmup(dev.thunderlink.daemon.internal.InferenceSetup.warmupRequests(cfg.inference()))
                          .build())
              .start();
    } catch (Exception e) {
      svc.close();
      throw e;
    }
    svc.shutdown().register(daemon.shutdownParticipant());
    System.err.println(
        "thunderlink workstation running; see `thunderlink status`"
            + svc.metricsPort().map(p -> "; metrics on http://127.0.0.1:" + p + "/metrics").orElse(""));
    svc.awaitShutdown(r -> {});
    return 0;
  }
}
