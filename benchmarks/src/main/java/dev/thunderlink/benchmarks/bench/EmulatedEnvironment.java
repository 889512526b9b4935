package dev.thunderlink.benchmarks.bench;

import dev.thunderlink.benchmarks.internal.BulkSinkServer;
import dev.thunderlink.benchmarks.internal.ByteSinkService;
import dev.thunderlink.benchmarks.internal.EchoServer;
import dev.thunderlink.benchmarks.internal.LinkPair;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.emulator.LinkEmulator;
import dev.thunderlink.transport.emulator.LinkProfile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --emulate}: host and workstation on this machine. A real host {@code LinkServer} (with
 * the bench's byte sink), a raw TCP echo server and bulk sink on loopback; per path a {@link
 * LinkEmulator} with the path's profile in front of each of the three, and a workstation {@link
 * PeerLink} through the path's link emulator, paired with the host through the real exchange.
 *
 * <p>Set up and closed on the bench's main thread; the servers and emulators run on their own.
 */
final class EmulatedEnvironment implements BenchEnvironment {

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final List<BenchTarget> targets = new ArrayList<>();
  private final String transport;

  private EmulatedEnvironment(String transport) {
    this.transport = transport;
  }

  /** Thunderbolt and Wi-Fi, the profiles. */
  static EmulatedEnvironment start() throws Exception {
    return start(List.of(
        new Path("tb", "Thunderbolt", PathKind.THUNDERBOLT, LinkProfile.THUNDERBOLT),
        new Path("wifi", "Wi-Fi", PathKind.WIFI, LinkProfile.WIFI)));
  }

  /** One emulated path: its name, report label, the kind the link tunes for, the profile. */
  record Path(String name, String label, PathKind kind, LinkProfile profile) {}

  static EmulatedEnvironment start(List<Path> paths) throws Exception {
    LinkPair pair = LinkPair.start(ByteSinkService.definition());
    EmulatedEnvironment env = new EmulatedEnvironment(pair.transport().toString());
    try {
      env.resources.add(pair);
      InetSocketAddress anyLoopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
      EchoServer echo = env.add(new EchoServer(anyLoopback));
      BulkSinkServer bulk = env.add(new BulkSinkServer(anyLoopback));
      for (Path p : paths) {
        LinkEmulator linkEmu = env.add(LinkEmulator.start(p.profile(), anyLoopback, pair.hostAddress()));
        LinkEmulator echoEmu = env.add(LinkEmulator.start(p.profile(), anyLoopback, echo.address()));
        LinkEmulator bulkEmu = env.add(LinkEmulator.start(p.profile(), anyLoopback, bulk.address()));
        PeerLink link = pair.connect(p.name(), linkEmu.localAddress(), p.kind());
        env.targets.add(new BenchTarget(p.name(), p.label(), "emulated " + describe(p.profile()),
            link, echoEmu.localAddress(), bulkEmu.localAddress(), null));
      }
      return env;
    } catch (Exception | Error e) {
      env.close();
      throw e;
    }
  }

  private <T extends AutoCloseable> T add(T resource) {
    resources.add(resource);
    return resource;
  }

  static String describe(LinkProfile p) {
    String rate = p.rateBitsPerSecond() == LinkProfile.UNLIMITED
        ? "the machine's own speed"
        : p.rateBitsPerSecond() / 1_000_000 + " Mbit/s";
    String delay = p.oneWayDelay().toNanos() / 1e6 + " ms one way";
    String jitter = p.jitter().isZero() ? "" : " ± " + p.jitter().toNanos() / 1e6 + " ms";
    return p.name() + " (" + rate + ", " + delay + jitter + ")";
  }

  @Override
  public List<BenchTarget> targets() {
    return targets;
  }

  @Override
  public String description() {
    return "one machine: a real host LinkServer and workstation PeerLinks (mutual TLS, " + transport
        + " transport) in one process, each path through a link emulator on loopback";
  }

  @Override
  public String mode() {
    return "emulate";
  }

  /** Closes in reverse order of creation: emulators, raw servers, then the link pair. */
  @Override
  public void close() throws Exception {
    Exception first = null;
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
