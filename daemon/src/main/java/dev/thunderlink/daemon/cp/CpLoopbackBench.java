package dev.thunderlink.daemon.cp;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thunderlink.transport.DeviceIdentity;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.LinkServer;
import dev.thunderlink.transport.PairedPeer;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.PeerStore;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.TuningProfile;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkServer;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Measures {@code thunderlink cp} on one machine: a real host (LinkServer + BulkServer) and
 * a real workstation link (PeerLink over a loopback path) in this JVM, the {@link Copier}
 * between them. Not a test: a script-driven benchmark (see the bulk report for commands).
 *
 * <pre>
 * java -Xmx256m -cp daemon/target/thunderlink.jar dev.thunderlink.daemon.cp.CpLoopbackBench \
 *     --work /tmp/cpbench --src /tmp/cpbench/src/random-1g [--pull] [--tls] [--runs 3] [--transport epoll]
 * java -cp ... CpLoopbackBench --make-random FILE MIB | --make-tree DIR FILES
 * </pre>
 *
 * <p>Runs on the main thread; prints one JSON line per run (the report without per-file
 * entries, plus bytes per mode).
 */
public final class CpLoopbackBench {
  private CpLoopbackBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--pull") || a.equals("--tls")) {
        o.put(a, "true");
      } else if (a.equals("--make-random") || a.equals("--make-tree")) {
        o.put(a, args[++i]);
        o.put(a + "-n", args[++i]);
      } else if (a.startsWith("--") && i + 1 < args.length) {
        o.put(a, args[++i]);
      } else {
        throw new IllegalArgumentException("argument: " + a + " (expected: see the class Javadoc)");
      }
    }
    if (o.containsKey("--make-random")) {
      makeRandom(Path.of(o.get("--make-random")), Long.parseLong(o.get("--make-random-n")));
      return;
    }
    if (o.containsKey("--make-tree")) {
      makeTree(Path.of(o.get("--make-tree")), Integer.parseInt(o.get("--make-tree-n")));
      return;
    }
    Path work = Path.of(o.getOrDefault("--work", "/tmp/cpbench"));
    Path src = Path.of(o.get("--src")).toAbsolutePath();
    int runs = Integer.parseInt(o.getOrDefault("--runs", "1"));
    boolean pull = o.containsKey("--pull");
    boolean tls = o.containsKey("--tls");
    TransportFactory transport = TransportFactory.select(o.getOrDefault("--transport", "auto"));
    run(work, src, runs, pull, tls, transport);
  }

  private static void run(Path work, Path src, int runs, boolean pull, boolean tls, TransportFactory transport) throws Exception {
    Path root = Files.createDirectories(work.resolve("host-root"));
    DeviceIdentity host = DeviceIdentity.loadOrCreate(work.resolve("ids/host"));
    DeviceIdentity ws = DeviceIdentity.loadOrCreate(work.resolve("ids/ws"));
    PeerStore hostPeers = new PeerStore(work.resolve("ids/host-peers.json"));
    PeerStore wsPeers = new PeerStore(work.resolve("ids/ws-peers.json"));
    hostPeers.put(new PairedPeer(ws.deviceId(), "ws", ws.fingerprint(), ws.certificatePem(), "workstation", 0, List.of()));
    wsPeers.put(new PairedPeer(host.deviceId(), "host", host.fingerprint(), host.certificatePem(), "host", 0, List.of()));
    EventLoopGroup hostLoops = transport.newGroup(2, "bench-host");
    EventLoopGroup wsLoops = transport.newGroup(2, "bench-ws");
    BulkServer bulk = new BulkServer(BulkConfig.defaults(List.of(root, src.getParent())), hostPeers);
    LinkServer server =
        LinkServer.builder()
            .identity(host).peers(hostPeers).transport(transport, hostLoops, hostLoops)
            .listen(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))
            .tuning(TuningProfile.defaults(PathKind.LOOPBACK))
            .addService(bulk.controlService()).bulk(bulk)
            .build().start();
    PeerLink link =
        PeerLink.builder().identity(ws).peers(wsPeers).transport(transport, wsLoops)
            .addPath(new LinkPath("lo", server.boundAddresses().get(0), tls ? PathKind.LAN : PathKind.LOOPBACK))
            .build().start();
    try {
      BulkClient client = BulkClient.forLink(link).identity(ws).peers(wsPeers).transport(transport, wsLoops).build();
      CpLink.Connected c = CpLink.await(link, client, Duration.ofSeconds(10), () -> { });
      ObjectMapper json = new ObjectMapper();
      for (int r = 0; r < runs; r++) {
        Path dest = pull ? work.resolve("pulled") : root.resolve("pushed");
        deleteTree(dest);
        CpSpec spec =
            pull
                ? CpSpec.parse(List.of("host:" + src, dest.toString()))
                : CpSpec.parse(List.of(src.toString(), "host:" + dest));
        CopyReport rep = new Copier(c, Duration.ofSeconds(10)).copy(spec, new Copier.Listener() {});
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("run", r + 1);
        line.put("direction", rep.direction());
        line.put("transport", transport.kind().cliName());
        line.put("files", rep.files());
        line.put("copied", rep.copied());
        line.put("failed", rep.failed());
        line.put("bytes", rep.bytes());
        line.put("seconds", rep.seconds());
        line.put("throughput_mib_s", rep.throughputMiBps());
        line.put("gbit_s", rep.bytes() * 8 / rep.seconds() / 1e9);
        line.put("encrypted", rep.encrypted());
        Map<String, Long> modes = new TreeMap<>();
        for (CopyReport.Entry e : rep.entries()) {
          if (e.mode() != null) {
            modes.merge(e.mode(), 1L, Long::sum);
          }
          if (e.error() != null && !line.containsKey("first_error")) {
            line.put("first_error", e.error());
          }
        }
        line.put("files_per_mode", modes);
        System.out.println(json.writeValueAsString(line));
      }
    } finally {
      link.close();
      server.close(2, TimeUnit.SECONDS);
      hostLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      wsLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(q);
      }
    }
  }

  private static void makeRandom(Path file, long mib) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    byte[] b = new byte[1 << 20];
    Random r = new Random(1);
    try (var out = Files.newOutputStream(file)) {
      for (long i = 0; i < mib; i++) {
        r.nextBytes(b);
        out.write(b);
      }
    }
  }

  private static void makeTree(Path dir, int files) throws IOException {
    Random r = new Random(2);
    for (int i = 0; i < files; i++) {
      Path f = dir.resolve("d" + (i % 200)).resolve("f" + i + ".txt");
      Files.createDirectories(f.getParent());
      int size = 1024 + r.nextInt(15 * 1024 + 1);
      StringBuilder sb = new StringBuilder(size + 80);
      while (sb.length() < size) {
        sb.append("fn_").append(r.nextInt(100000)).append("(x) { return x * ").append(r.nextInt(1000)).append("; }\n");
      }
      Files.write(f, sb.substring(0, size).getBytes(StandardCharsets.US_ASCII));
    }
  }
}
