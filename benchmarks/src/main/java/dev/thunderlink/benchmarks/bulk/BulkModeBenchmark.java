package dev.thunderlink.benchmarks.bulk;

import dev.thunderlink.benchmarks.internal.BenchLink;
import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkChannels;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.LinkServer;
import dev.thunderlink.transport.PairedPeer;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerStore;
import dev.thunderlink.transport.TlsContexts;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.TuningProfile;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkServer;
import dev.thunderlink.transport.bulk.BulkSession;
import dev.thunderlink.transport.bulk.PushItem;
import dev.thunderlink.transport.bulk.TransferListener;
import dev.thunderlink.transport.bulk.TransferResult;
import io.grpc.ManagedChannel;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Bulk-plane throughput per payload mode: one file pushed through a real host (LinkServer +
 * BulkServer, pinned mutual TLS on the control plane) per operation, verified end to end by
 * SHA-256, over a link profile from {@link BenchLink} (the emulator relays the bulk
 * connection; the control channel goes straight to the host).
 *
 * <p>Modes: {@code zero-copy} (sendfile), {@code heap} (buffer copy), {@code lz4} (on a
 * compressible text file), {@code tls} (raw bytes through TLS 1.3). Read the {@code
 * mebibytes} line: MiB/s of file payload. Modes are forced as {@link ForcedMode} says; on the
 * wifi profile the plaintext modes are a what-if: a real Wi-Fi path always runs TLS. Compare with {@code BulkThroughputBenchmark} (raw TCP)
 * on the same profile. Put the host's files in memory with {@code -Djava.io.tmpdir=/dev/shm}
 * to take the disk out of the figure.
 *
 * <pre>
 * java -Djava.io.tmpdir=/dev/shm -jar benchmarks/target/benchmarks.jar BulkModeBenchmark -p profile=loopback,thunderbolt,wifi
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class BulkModeBenchmark {
  @Param({"zero-copy", "heap", "lz4", "tls"})
  public String mode;

  /** Every figure comes as a pair (see BenchLink); {@code loopback} skips the emulator. */
  @Param({"thunderbolt", "wifi"})
  public String profile;

  @Param({"32"})
  public int fileMiB;

  private Path dir;
  private Path file;
  private EventLoopGroup group;
  private LinkServer server;
  private BenchLink link;
  private ManagedChannel control;
  private BulkClient client;

  /** MiB/s of payload, divided by time by JMH. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Moved {
    public long mebibytes;

    @Setup(Level.Iteration)
    public void reset() {
      mebibytes = 0;
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    if (BenchLink.isRemote(profile)) {
      throw new IllegalStateException("profile " + profile + ": BulkModeBenchmark runs against a local host only");
    }
    dir = Files.createTempDirectory("bulk-bench");
    Path root = Files.createDirectories(dir.resolve("root"));
    file = dir.resolve("payload");
    dev.thunderlink.benchmarks.workload.Payloads.write(file, (long) fileMiB << 20, mode.equals("lz4"));
    DeviceIdentity host = DeviceIdentity.loadOrCreate(dir.resolve("ids/host"));
    DeviceIdentity ws = DeviceIdentity.loadOrCreate(dir.resolve("ids/ws"));
    PeerStore hostPeers = new PeerStore(dir.resolve("ids/host-peers.json"));
    PeerStore wsPeers = new PeerStore(dir.resolve("ids/ws-peers.json"));
    hostPeers.put(new PairedPeer(ws.deviceId(), "ws", ws.fingerprint(), ws.certificatePem(), "workstation", 0, List.of()));
    wsPeers.put(new PairedPeer(host.deviceId(), "host", host.fingerprint(), host.certificatePem(), "host", 0, List.of()));
    TransportFactory transport = TransportFactory.auto();
    group = transport.newGroup(2, "bulk-bench");
    ForcedMode forced = ForcedMode.parse(mode);
    BulkConfig hostConfig = BulkConfig.defaults(List.of(root));
    BulkServer bulk = new BulkServer(hostConfig, hostPeers);
    server =
        LinkServer.builder()
            .identity(host).peers(hostPeers).transport(transport, group, group)
            .listen(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))
            .tuning(TuningProfile.defaults(PathKind.LOOPBACK))
            .addService(bulk.controlService()).bulk(bulk)
            .build().start();
    InetSocketAddress hostAddress = server.boundAddresses().get(0);
    link = BenchLink.open(profile, hostAddress, 0);
    control =
        LinkChannels.newChannel(
            hostAddress, TlsContexts.grpcClient(ws, fp -> fp.equalsIgnoreCase(host.fingerprint())),
            transport, group, TuningProfile.defaults(PathKind.LOOPBACK));
    LinkPath path = new LinkPath("bench", link.address(), forced.declaredKind(PathKind.LOOPBACK));
    client =
        BulkClient.builder().identity(ws).peers(wsPeers).transport(transport, group)
            .control(control).target(() -> Optional.of(path)).config(forced.senderConfig(hostConfig)).build();
  }


  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    control.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    link.close();
    server.close(2, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }

  /** Pushes the file once (new session each time), verified end to end. */
  @Benchmark
  public TransferResult push(Moved moved) throws Exception {
    try (BulkSession s = client.open()) {
      TransferResult r = s.push(List.of(new PushItem(file, "payload", null)), TransferListener.NONE).get(0);
      if (!r.ok()) {
        throw new IllegalStateException(r.error());
      }
      moved.mebibytes += fileMiB;
      return r;
    }
  }
}
