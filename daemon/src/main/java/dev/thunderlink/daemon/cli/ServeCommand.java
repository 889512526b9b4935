package dev.thunderlink.daemon.cli;

import dev.thunderlink.daemon.DaemonOptions;
import dev.thunderlink.daemon.HostDaemon;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.TransportFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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
  String transport = "auto";

  @Option(names = "--control-port", paramLabel = "PORT", description = "Local control port on 127.0.0.1 (default: any free port).")
  int controlPort;

  @Override
  public Integer call() throws Exception {
    List<InetSocketAddress> addrs = new ArrayList<>();
    for (String l : listen) {
      addrs.add(LinkPath.parseHostPort(l, LinkPath.DEFAULT_PORT, "--listen"));
    }
    if (addrs.isEmpty()) {
      addrs.add(new InetSocketAddress(LinkPath.DEFAULT_PORT));
    }
    DaemonOptions options =
        new DaemonOptions(home.resolve(), TransportFactory.select(transport), addrs, List.of(), controlPort, false);
    HostDaemon daemon = new HostDaemon(options).start();
    System.err.println(
        "thunderlink host ready on " + daemon.boundAddresses() + "; pair a workstation with `thunderlink pair`");
    awaitShutdown(daemon);
    return 0;
  }

  static void awaitShutdown(AutoCloseable daemon) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    daemon.close();
                  } catch (Exception e) {
                    System.err.println("thunderlink: error while stopping: " + e.getMessage());
                  } finally {
                    stopped.countDown();
                  }
                },
                "thunderlink-shutdown"));
    stopped.await();
  }
}
