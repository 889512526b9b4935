package dev.thunderlink.daemon.cli;

import dev.thunderlink.daemon.DaemonHome;
import dev.thunderlink.daemon.DaemonOptions;
import dev.thunderlink.daemon.HostDaemon;
import dev.thunderlink.daemon.WorkstationDaemon;
import dev.thunderlink.proto.control.ControlGrpc;
import dev.thunderlink.proto.control.ControlPingRequest;
import dev.thunderlink.proto.control.StatusRequest;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.LocalControlServer;
import dev.thunderlink.transport.PairingClient;
import dev.thunderlink.transport.PairingCodes;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.TransportFactory;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code thunderlink demo}: both daemons on this machine over loopback — two loopback
 * addresses stand for the Thunderbolt and Wi-Fi paths — paired with a real one-time code,
 * then status and ping, and what to try next.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Run a host and a workstation daemon on this machine, paired over loopback, and show what they do.")
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--dir", paramLabel = "DIR", description = "Where the two homes live (default: ${DEFAULT-VALUE}).")
  Path dir = Path.of("thunderlink-demo");

  @Option(names = "--duration", paramLabel = "SECONDS", description = "Stop after this many seconds (default: run until Ctrl-C).")
  int durationSeconds;

  @Option(names = "--transport", paramLabel = "NAME", description = "auto (default), kqueue, epoll, io-uring or nio.")
  String transport = "auto";

  @Spec CommandSpec spec;

  /**
   * Gives a demo home a device name of its own, unless it has a config already: both daemons
   * run on this machine, and by its host name alone a conflict copy or an event would not say
   * which side it came from.
   */
  static void nameHome(DaemonHome home, String name) throws IOException {
    Path config = home.dir().resolve("config.toml");
    if (!java.nio.file.Files.exists(config)) {
      java.nio.file.Files.writeString(config, "# written by thunderlink demo: its two daemons share this machine's host name\n"
          + "[device]\nname = \"" + name + "\"\n");
    }
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Path hostHome = dir.resolve("host").toAbsolutePath();
    Path wsHome = dir.resolve("workstation").toAbsolutePath();
    nameHome(new DaemonHome(hostHome).ensure(), "demo-host");
    nameHome(new DaemonHome(wsHome).ensure(), "demo-workstation");
    TransportFactory tf = TransportFactory.select(transport);
    int port = freePort();
    InetAddress tbAddr = InetAddress.getByName("127.0.0.1");
    InetAddress wifiAddr = InetAddress.getByName("127.0.0.2");
    HostDaemon host =
        new HostDaemon(
                new DaemonOptions(
                    new DaemonHome(hostHome),
                    tf,
                    List.of(new InetSocketAddress(tbAddr, port), new InetSocketAddress(wifiAddr, port)),
                    List.of(),
                    0,
                    false))
            .inference(simulatorOnly())
            .permittedRoots(List.of(dir.toAbsolutePath()), true)
            .start();
    WorkstationDaemon ws = null;
    try {
      step(out, "host daemon listening on 127.0.0.1:" + port + " and 127.0.0.2:" + port + " (home " + hostHome + ")");
      DaemonHome wsHomeDir = new DaemonHome(wsHome).ensure();
      if (wsHomeDir.peers().peers().stream().noneMatch(p -> p.role().equals("host") && p.deviceId().equals(host.deviceId()))) {
        PairingCodes.Issued code = host.pairingCodes().issue(Duration.ofMinutes(2));
        step(out, "host issued pairing code " + code.code() + "; workstation pairs with it (J-PAKE over TLS)");
        EventLoopGroup g = tf.newGroup(1, "thunderlink-demo-pair");
        try {
          PairingClient.pair(
              new InetSocketAddress(tbAddr, port), code.code(), wsHomeDir.identity(), wsHomeDir.peers(), tf, g, 15_000);
        } finally {
          g.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        }
        step(out, "paired: each side pinned the other's certificate");
      } else {
        step(out, "already paired (homes reused from " + dir.toAbsolutePath() + ")");
      }
      ws =
          new WorkstationDaemon(
                  new DaemonOptions(
                      wsHomeDir,
                      tf,
                      List.of(),
                      List.of(
                          new LinkPath("tb", new InetSocketAddress(tbAddr, port), PathKind.THUNDERBOLT),
                          new LinkPath("wifi", new InetSocketAddress(wifiAddr, port), PathKind.WIFI)),
                      0,
                      false))
              .inferenceFront(dev.thunderlink.inference.FrontConfig.builder().port(apiPort()).build())
              .start();
      if (!ws.awaitConnected(Duration.ofSeconds(10))) {
        throw new IOException("the workstation could not reach the demo host within 10 s");
      }
      step(out, "workstation connected; status:");
      try (LocalControlServer.Connection c = LocalControlServer.connect(wsHome)) {
        var s = ControlGrpc.newBlockingStub(c.channel()).withDeadlineAfter(ControlCalls.QUICK_SECONDS, TimeUnit.SECONDS).status(StatusRequest.getDefaultInstance());
        var m = StatusCommand.toMap(s);
        out.printf("    transport %s, tls %s, active path %s%n", m.get("transport"), m.get("tls_provider"), m.get("active_path"));
        var r =
            ControlGrpc.newBlockingStub(c.channel())
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .ping(ControlPingRequest.newBuilder().setCount(200).setIntervalMillis(0).build());
        Map<String, Object> p = PingCommand.summarize(r);
        out.printf(
            "    ping over %s: p50 %.0f us, p99 %.0f us (%d pings)%n", r.getPath(), p.get("p50_us"), p.get("p99_us"), r.getReceived());
      }
      int api = ws.inference().map(i -> i.address().getPort()).orElse(-1);
      step(out, "inference: the host serves models from the Ollama SIMULATOR (no model server here); on the workstation at http://127.0.0.1:" + api);
      Path wsProject = dir.resolve("workstation-project").toAbsolutePath();
      Path hostProject = dir.resolve("host-project").toAbsolutePath();
      java.nio.file.Files.createDirectories(wsProject);
      java.nio.file.Path hello = wsProject.resolve("HELLO.md");
      if (!java.nio.file.Files.exists(hello)) {
        java.nio.file.Files.writeString(hello, "Edit me here; I appear in " + hostProject + "\n");
      }
      try (LocalControlServer.Connection c = LocalControlServer.connect(wsHome)) {
        var sync = dev.thunderlink.proto.synccontrol.SyncControlGrpc.newBlockingStub(c.channel());
        boolean exists =
            sync.withDeadlineAfter(ControlCalls.QUICK_SECONDS, TimeUnit.SECONDS)
                .list(dev.thunderlink.proto.synccontrol.SyncListRequest.getDefaultInstance())
                .getSessionsList()
                .stream()
                .anyMatch(x -> x.getName().equals("demo"));
        if (!exists) {
          sync.withDeadlineAfter(60, TimeUnit.SECONDS)
              .create(
                  dev.thunderlink.proto.synccontrol.SyncCreateRequest.newBuilder()
                      .setName("demo")
                      .setLocalRoot(wsProject.toString())
                      .setRemoteRoot(hostProject.toString())
                      .build());
        }
        sync.withDeadlineAfter(60, TimeUnit.SECONDS)
            .flush(dev.thunderlink.proto.synccontrol.SyncFlushRequest.newBuilder().setName("demo").setTimeoutSeconds(50).build());
      }
      step(out, "mirror: " + wsProject + " <-> " + hostProject + " (session \"demo\", in sync)");
      String self = launcher(System.getenv("THUNDERLINK_LAUNCHER"), Path.of("").toAbsolutePath());
      out.println();
      out.println("Try, in another terminal:");
      out.printf("  %s status --home %s            # workstation view: paths, RTT, peer%n", self, wsHome);
      out.printf("  %s ping -c 100 -i 0 --home %s  # RTT over the active path%n", self, wsHome);
      out.printf("  %s ping --path wifi --home %s   # RTT over the other path%n", self, wsHome);
      out.printf("  %s status --home %s            # host view%n", self, hostHome);
      out.printf("  %s doctor --home %s%n", self, wsHome);
      out.printf("  echo hi > %s/new.txt; ls %s        # edit one side, watch the other%n", wsProject, hostProject);
      out.printf("  %s sync events demo --home %s      # each change as it crosses (Ctrl-C to stop)%n", self, wsHome);
      out.printf("  %s sync status demo --home %s      # the mirror's counters%n", self, wsHome);
      out.printf("  curl -s localhost:%d/api/generate -d '{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\"}'  # tokens over the link%n", api);
      out.printf("  OLLAMA_HOST=127.0.0.1:%d ollama list  /  ANTHROPIC_BASE_URL=http://127.0.0.1:%d claude%n", api, api);
      out.printf("  %s models --home %s                # the host scheduler: loaded models, queues, loads%n", self, wsHome);
      out.println(durationSeconds > 0 ? "Stopping in " + durationSeconds + " s." : "Press Ctrl-C to stop both daemons.");
      out.flush();
      CountDownLatch stop = new CountDownLatch(1);
      Thread hook = new Thread(stop::countDown, "thunderlink-demo-stop");
      Runtime.getRuntime().addShutdownHook(hook);
      if (durationSeconds > 0) {
        stop.await(durationSeconds, TimeUnit.SECONDS);
      } else {
        stop.await();
      }
      return 0;
    } finally {
      if (ws != null) {
        ws.close();
      }
      host.close();
    }
  }

  private static dev.thunderlink.inference.InferenceHostConfig simulatorOnly() throws IOException {
    return dev.thunderlink.inference.InferenceHostConfig.builder()
        .simulator(dev.thunderlink.inference.SimulatorConfig.macMini64().build())
        .localFront(dev.thunderlink.inference.FrontConfig.builder().port(freePort()).interactive(false).build())
        .build();
  }

  /** 11434 (where Ollama clients look) when free, another port otherwise. */
  private static int apiPort() throws IOException {
    try (ServerSocket s = new ServerSocket(11434, 1, InetAddress.getByName("127.0.0.1"))) {
      return 11434;
    } catch (IOException e) {
      return freePort();
    }
  }

  private static void step(PrintWriter out, String s) {
    out.println("==> " + s);
    out.flush();
  }

  /** Free on both demo paths' addresses, and outside the range outgoing connections draw from. */
  private static int freePort() throws IOException {
    return dev.thunderlink.transport.FreePorts.pick(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("127.0.0.2"));
  }

  /**
   * How the user runs this launcher from where they are: {@code ./thunderlink} in the
   * checkout, a relative path below it, else the absolute one; {@code thunderlink} when the
   * jar was started without the launcher (which sets {@code THUNDERLINK_LAUNCHER}).
   */
  static String launcher(String launcher, Path cwd) {
    if (launcher == null || launcher.isBlank()) {
      return "thunderlink";
    }
    Path l = Path.of(launcher).toAbsolutePath().normalize();
    if (l.startsWith(cwd)) {
      return "./" + cwd.relativize(l);
    }
    return l.toString();
  }
}
