package dev.thunderlink.benchmarks.bench;

import dev.thunderlink.benchmarks.internal.BulkSinkServer;
import dev.thunderlink.benchmarks.internal.ByteSinkService;
import dev.thunderlink.benchmarks.internal.EchoServer;
import dev.thunderlink.benchmarks.internal.LinkPair;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.emulator.LinkEmulator;
import dev.thunderlink.transport.emulator.LinkProfile;
import dev.thunderlink.inference.InferenceHost;
import dev.thunderlink.sync.SyncHostService;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code --emulate}: host and workstation on this machine. A real host {@code LinkServer} (with
 * the bench's byte sink and the mirror's {@link SyncHostService}, the inference host over a SIMULATED model server), a raw TCP echo server and bulk sink on loopback; per path a {@link
 * LinkEmulator} with the path's profile in front of each of the three, and a workstation {@link
 * PeerLink} through the path's link emulator, paired with the host through the real exchange.
 *
 * <p>Set up and closed on the bench's main thread; the servers and emulators run on their own.
 */
final class EmulatedEnvironment implements BenchEnvironment {

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final List<BenchTarget> targets = new ArrayList<>();
  private final Path scratch;
  private String transport = "?";
  private boolean closed; // guarded by this

  private EmulatedEnvironment(Path scratch) {
    this.scratch = scratch;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Thunderbolt and Wi-Fi, the profiles. */
  static EmulatedEnvironment start() throws Exception {
    return start(List.of(
        new EmulatedPath("tb", "Thunderbolt", PathKind.THUNDERBOLT, LinkProfile.THUNDERBOLT),
        new EmulatedPath("wifi", "Wi-Fi", PathKind.WIFI, LinkProfile.WIFI)));
  }

  /** One emulated path: its name, report label, the kind the link tunes for, the profile. */
  record EmulatedPath(String name, String label, PathKind kind, LinkProfile profile) {}

  static EmulatedEnvironment start(List<EmulatedPath> paths) throws Exception {
    Path scratch = Files.createTempDirectory("thunderlink-bench-host-");
    EmulatedEnvironment env = new EmulatedEnvironment(scratch);
    try {
      // closed last (resources close in reverse): the sync service after the server, then the files
      env.resources.add(() -> deleteTree(scratch));
      SyncHostService sync = env.add(new SyncHostService(scratch.resolve("sync-state"), "bench-host", true, Duration.ofMillis(10)));
      // the bulk plane on the same port, as the host daemon serves it; it writes below scratch/paths/*/bulk
      BulkConfig bulkConfig = BulkConfig.defaults(List.of(Files.createDirectories(scratch.resolve("paths"))));
      InferenceHost inference = env.add(TokenStreamSuite.startHost());
      LinkPair pair = env.add(LinkPair.start((b, hostPeers) -> {
        BulkServer bulk = new BulkServer(bulkConfig, hostPeers);
        bulk.onStagedVerified(dev.thunderlink.sync.SyncHostService.LARGEST_TRUSTED_COPY, sync::stagedCopyVerified); // as the host daemon wires them
        b.addService(bulk.controlService()).bulk(bulk);
      }, ByteSinkService.definition(), sync.bindService(), inference.linkService().bindService()));
      env.transport = pair.transport().toString();
      InetSocketAddress anyLoopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
      EchoServer echo = env.add(new EchoServer(anyLoopback));
      BulkSinkServer bulk = env.add(new BulkSinkServer(anyLoopback));
      for (EmulatedPath p : paths) {
        LinkEmulator linkEmu = env.add(LinkEmulator.start(p.profile(), anyLoopback, pair.hostAddress()));
        LinkEmulator echoEmu = env.add(LinkEmulator.start(p.profile(), anyLoopback, echo.address()));
        LinkEmulator bulkEmu = env.add(LinkEmulator.start(p.profile(), anyLoopback, bulk.address()));
        PeerLink link = pair.connect(p.name(), linkEmu.localAddress(), p.kind());
        env.targets.add(new BenchTarget(p.name(), p.label(), "emulated " + describe(p.profile()),
            link, echoEmu.localAddress(), bulkEmu.localAddress(), null,
            Files.createDirectories(scratch.resolve("paths").resolve(p.name())),
            inference.simulator().orElseThrow().baseUri(),
            new BenchBulk((config, path) -> pair.bulkClient(link, config, path),
                new LinkPath(p.name(), linkEmu.localAddress(), p.kind()), p.name() + "/bulk")));
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

  /**
   * Closes in reverse order of creation: emulators, raw servers, the link pair, the host's sync
   * service, the temporary files. Once only; may be called from a shutdown hook.
   */
  @Override
  public synchronized void close() throws Exception {
    if (closed) {
      return;
    }
    closed = true;
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
