package dev.thunderlink.daemon.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.sync.FilePusher;
import dev.thunderlink.sync.SyncHostService;
import dev.thunderlink.sync.SyncSession;
import dev.thunderlink.sync.SyncSessionConfig;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkCounters;
import dev.thunderlink.transport.bulk.BulkServer;
import dev.thunderlink.transport.emulator.LinkEmulator;
import dev.thunderlink.transport.emulator.LinkProfile;
import dev.thunderlink.transport.testing.Await;
import dev.thunderlink.transport.testing.LinkFixture;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mirror session over a real link and bulk plane on loopback (LinkServer with the host's
 * sync service and BulkServer, a PeerLink, the daemon's {@link BulkFilePusher}): small files
 * travel as bulk pushes installed by InstallStaged, and when the bulk plane refuses them they
 * go by gRPC instead.
 */
class SyncOverBulkPlaneTest {
  @TempDir Path tmp;
  private LinkFixture fx;
  private SyncHostService sync;
  private BulkFilePusher pusher;
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private BulkCounters bulkCounters;

  /** A host whose bulk plane may write under {@code bulkRoot}; the mirror's root is host-root/tree. */
  private PeerLink host(Path bulkRoot) throws Exception {
    startHost(bulkRoot);
    return withPusher(fx.connect());
  }

  private BulkServer bulkServer;

  private void startHost(Path bulkRoot) throws Exception {
    startHost(BulkConfig.defaults(List.of(bulkRoot)));
  }

  private void startHost(BulkConfig config) throws Exception {
    fx = new LinkFixture(TransportFactory.auto().kind(), tmp);
    BulkServer bulk = new BulkServer(config, fx.hostPeers);
    bulkServer = bulk;
    sync = new SyncHostService(tmp.resolve("host-state"), "mini", true, Duration.ofMillis(10));
    bulk.onStagedVerified(dev.thunderlink.sync.SyncHostService.LARGEST_TRUSTED_COPY, sync::stagedCopyVerified); // as the host daemon wires them
    fx.startHost(
        List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
        b -> b.addService(bulk.controlService()).bulk(bulk).addService(sync));
    bulkCounters = bulk.counters();
    fx.pair();
  }

  private PeerLink withPusher(PeerLink link) throws IOException {
    BulkClient client = BulkClient.forLink(link).identity(fx.wsId).peers(fx.wsPeers).transport(fx.transport, fx.workers).build();
    pusher = new BulkFilePusher(client, link::awaitActive, Duration.ofSeconds(10));
    return link;
  }

  @AfterEach
  void close() throws Exception {
    if (pusher != null) {
      pusher.close();
    }
    if (fx != null) {
      fx.close();
    }
    if (sync != null) {
      sync.close();
    }
  }

  /** Bytes of the messages sent per gRPC method. */
  private final Map<String, java.util.concurrent.atomic.AtomicLong> grpcBytes = new ConcurrentHashMap<>();

  private Channel counted(Channel c) {
    return ClientInterceptors.intercept(c, new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        calls.computeIfAbsent(method.getBareMethodName(), k -> new AtomicInteger()).incrementAndGet();
        java.util.concurrent.atomic.AtomicLong bytes =
            grpcBytes.computeIfAbsent(method.getBareMethodName(), k -> new java.util.concurrent.atomic.AtomicLong());
        return new io.grpc.ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void sendMessage(Q message) {
            bytes.addAndGet(((com.google.protobuf.MessageLite) message).getSerializedSize());
            super.sendMessage(message);
          }
        };
      }
    });
  }

  /** Bytes of the messages the workstation sent on the delta's gRPC calls (Write, Read). */
  private long deltaGrpcBytes() {
    return grpcBytes.getOrDefault("Write", new java.util.concurrent.atomic.AtomicLong()).get()
        + grpcBytes.getOrDefault("Read", new java.util.concurrent.atomic.AtomicLong()).get();
  }

  /** Payload bytes the host's bulk plane received and sent. */
  private long planeBytes() {
    return bulkCounters.snapshot().payloadBytes().values().stream().mapToLong(Long::longValue).sum();
  }

  private int calls(String method) {
    AtomicInteger n = calls.get(method);
    return n == null ? 0 : n.get();
  }

  private SyncSession start(PeerLink link, Path local, Path remote) throws IOException {
    return start(link, local, remote, pusher);
  }

  private SyncSession start(PeerLink link, Path local, Path remote, FilePusher via) throws IOException {
    return SyncSession.start(SyncSessionConfig.builder("proj").localRoot(local).remoteRoot(remote.toString())
        .stateDir(tmp.resolve("ws-state")).deviceName("book").watch(false).rescanInterval(Duration.ofHours(1)).build(),
        counted(link.channel()), via);
  }

  private static Map<String, String> tree(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (!p.equals(root)) {
          out.put(root.relativize(p).toString(), Files.isDirectory(p) ? "dir" : Files.readString(p));
        }
      }
    }
    return out;
  }

  private static Path tree(Path root, int files) throws IOException {
    Files.createDirectories(root);
    for (int i = 0; i < files; i++) {
      Path f = root.resolve("d" + i % 5 + "/f" + i + ".txt");
      Files.createDirectories(f.getParent());
      Files.writeString(f, ("line " + i + "\n").repeat(1 + i % 40));
    }
    return root;
  }

  private static List<Path> ours(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      return all.filter(p -> p.getFileName().toString().contains("thunderlink-tmp-")).toList();
    }
  }

  /**
   * Mirrors a tree of {@code files} small files to host-root/tree, the host's bulk plane
   * writing only under {@code bulkRoot}; returns the session, in sync.
   */
  private SyncSession mirrored(String bulkRoot, int files) throws Exception {
    PeerLink link = host(Files.createDirectories(tmp.resolve(bulkRoot)));
    Path local = tree(tmp.resolve("local"), files);
    remote = Files.createDirectories(tmp.resolve("host-root")).resolve("tree");
    SyncSession s = start(link, local, remote);
    s.flush(Duration.ofSeconds(60));
    assertThat(tree(remote)).isEqualTo(tree(local)).hasSize(files + 5);
    return s;
  }

  private Path remote;

  @Test
  void smallFilesGoOverTheBulkPlaneAndAreInstalledOnTheHost() throws Exception {
    try (SyncSession s = mirrored("host-root", 600)) {
      assertThat(calls("InstallStaged")).isPositive();
      assertThat(calls("WriteFiles")).isZero();
      assertThat(ours(remote)).isEmpty();
      assertThat(sync.stagedCopiesTrusted()).as("installed on the bulk plane's SHA-256, not hashed again")
          .isEqualTo(600);
      // an edit later takes the same way
      Files.writeString(tmp.resolve("local/d1/f1.txt"), "edited");
      s.flush(Duration.ofSeconds(60));
      assertThat(remote.resolve("d1/f1.txt")).hasContent("edited");
      assertThat(calls("WriteFiles")).isZero();
    }
  }

  @Test
  void filesTheBulkPlaneRefusesGoByGrpc() throws Exception {
    // the bulk plane may write only elsewhere: every push is refused
    try (SyncSession s = mirrored("elsewhere", 100)) {
      assertThat(calls("WriteFiles")).isPositive();
      assertThat(calls("InstallStaged")).isZero();
    }
  }

  private static final int BLOCK = 128 * 1024; // the session's default delta block size

  /** Flips the byte at each of {@code offsets} and back-dates the file, so its stat is trusted at the next scan. */
  private static void flip(Path p, long... offsets) throws IOException {
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
      for (long at : offsets) {
        f.seek(at);
        int x = f.read();
        f.seek(at);
        f.write(x ^ 0x5a);
      }
    }
    Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 30_000));
  }

  /** A random file of {@code mib} MiB at local/big.bin, mirrored to host-root/tree; the session, in sync. */
  private SyncSession bigMirrored(PeerLink link, int mib, FilePusher via) throws Exception {
    Path local = Files.createDirectories(tmp.resolve("local"));
    byte[] b = new byte[mib << 20];
    new Random(11).nextBytes(b);
    Files.write(local.resolve("big.bin"), b);
    remote = Files.createDirectories(tmp.resolve("host-root/tree"));
    SyncSession s = start(link, local, remote, via);
    s.flush(Duration.ofSeconds(60));
    assertThat(Files.mismatch(local.resolve("big.bin"), remote.resolve("big.bin"))).isEqualTo(-1);
    return s;
  }

  @Test
  void aOneByteEditOfALargeFileSendsOneBlockOverTheBulkPlaneEachWay() throws Exception {
    PeerLink link = host(Files.createDirectories(tmp.resolve("host-root")));
    try (SyncSession s = bigMirrored(link, 8, pusher)) {
      Path local = tmp.resolve("local/big.bin");
      Path there = remote.resolve("big.bin");
      long plane = planeBytes();
      long grpc = deltaGrpcBytes();
      flip(local, 5_000_000);
      s.flush(Duration.ofSeconds(60));
      assertThat(Files.mismatch(local, there)).isEqualTo(-1);
      assertThat(planeBytes() - plane).as("bytes pushed over the bulk plane").isEqualTo(BLOCK);
      assertThat(deltaGrpcBytes() - grpc).as("bytes of the delta's gRPC calls (instructions only)").isLessThan(1024);

      plane = planeBytes();
      grpc = deltaGrpcBytes();
      flip(there, 7_000_000);
      s.flush(Duration.ofSeconds(60));
      assertThat(Files.mismatch(local, there)).isEqualTo(-1);
      assertThat(planeBytes() - plane).as("bytes pulled over the bulk plane").isEqualTo(BLOCK);
      assertThat(deltaGrpcBytes() - grpc).as("bytes of the delta's gRPC calls (instructions only)").isLessThan(1024);
      assertThat(calls("Read")).isZero();
      assertThat(ours(remote)).isEmpty();
      assertThat(ours(tmp.resolve("local"))).isEmpty();
    }
  }

  /** Runs before a transfer of the items over the bulk plane, with whether it is a push. */
  @FunctionalInterface
  private interface BeforeTransfer {
    void run(boolean push, List<FilePusher.Item> items) throws IOException;
  }

  /** {@link #pusher}, with {@code hook} run before each transfer. */
  private FilePusher hooked(BeforeTransfer hook) {
    return new FilePusher() {
      @Override
      public List<String> push(List<Item> items) throws IOException {
        hook.run(true, items);
        return pusher.push(items);
      }

      @Override
      public List<String> pull(List<Item> items) throws IOException {
        hook.run(false, items);
        return pusher.pull(items);
      }
    };
  }

  /**
   * A pusher that, before the first transfer of a delta's blocks in each direction, edits the
   * source once more (in the same block): what arrives is not the content the delta was
   * planned for.
   */
  private FilePusher meddling(Path local, Path there, List<String> meddled) {
    return hooked((push, items) -> {
      String way = push ? "push" : "pull";
      if (items.get(0).ranges() != null && !meddled.contains(way)) {
        meddled.add(way);
        flip(push ? local : there, push ? 5_000_001 : 7_000_001);
      }
    });
  }

  /**
   * Changes every other block of {@code file} (16 MiB of a 32 MiB file to send) and flushes the
   * session while the cable is pulled once {@code cutWhen} holds; returns once the flush did.
   */
  private static void editEveryOtherBlockAndCut(SyncSession s, Path file, LinkEmulator tb,
      java.util.concurrent.Callable<Boolean> cutWhen) throws Exception {
    long[] edits = new long[128];
    for (int i = 0; i < edits.length; i++) {
      edits[i] = 2L * i * BLOCK + 1000;
    }
    flip(file, edits);
    Thread cutter = cutWhen(tb, cutWhen);
    try {
      s.flush(Duration.ofSeconds(60));
    } finally {
      cutter.interrupt();
    }
    assertThat(tb.isCut()).as("the cut came during the delta").isTrue();
  }

  @Test
  void aFileEditedAgainWhileItsDeltaTravelsIsNotInstalledFromItAndTheMirrorConverges() throws Exception {
    PeerLink link = host(Files.createDirectories(tmp.resolve("host-root")));
    Path local = tmp.resolve("local/big.bin");
    Path there = tmp.resolve("host-root/tree/big.bin");
    List<String> meddled = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (SyncSession s = bigMirrored(link, 8, meddling(local, there, meddled))) {
      byte[] before = Files.readAllBytes(there);
      flip(local, 5_000_000);
      s.flush(Duration.ofSeconds(60));
      assertThat(meddled).as("the delta's blocks went over the bulk plane").contains("push");
      // the host refused the file built from blocks of another content; the next cycle sent the edit
      assertThat(Files.mismatch(local, there)).isEqualTo(-1);
      assertThat(Files.readAllBytes(there)).isNotEqualTo(before);

      flip(there, 7_000_000);
      s.flush(Duration.ofSeconds(60));
      assertThat(meddled).as("the delta's blocks came over the bulk plane").contains("pull");
      assertThat(Files.mismatch(local, there)).isEqualTo(-1);
      assertThat(ours(remote)).isEmpty();
      assertThat(ours(tmp.resolve("local"))).isEmpty();
    }
  }

  @FunctionalInterface
  private interface OverCable {
    void run(LinkEmulator tb, PeerLink link) throws Exception;
  }

  /** Runs {@code test} on a host whose link has an emulated Thunderbolt cable (active) and a LAN path. */
  private void overCableAndLan(OverCable test) throws Exception {
    startHost(Files.createDirectories(tmp.resolve("host-root")));
    try (LinkEmulator tb = LinkEmulator.start(LinkProfile.THUNDERBOLT, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), fx.hostAddress())) {
      test.run(tb, withPusher(tbLink(tb, true)));
    }
  }

  @Test
  void aPathCutMidDeltaPushesItsBlocksAgainOnTheOtherPath() throws Exception {
    overCableAndLan((tb, link) -> {
      try (SyncSession s = bigMirrored(link, 32, pusher)) {
        Path local = tmp.resolve("local/big.bin");
        long grpc = deltaGrpcBytes();
        long sent = tb.stats().bytesToTarget();
        // the cable is pulled 4 MiB into the delta's blocks
        editEveryOtherBlockAndCut(s, local, tb, () -> tb.stats().bytesToTarget() >= sent + (4 << 20));
        assertThat(link.activePath()).contains("lan");
        assertThat(Files.mismatch(local, remote.resolve("big.bin"))).isEqualTo(-1);
        assertThat(deltaGrpcBytes() - grpc).as("the blocks were pushed again, not sent by gRPC").isLessThan(64 * 1024);
        assertThat(ours(remote)).isEmpty();
      }
    });
  }

  @Test
  void aPathCutMidDeltaPullLeavesNoPartialAndTheMirrorConverges() throws Exception {
    overCableAndLan((tb, link) -> {
      List<String> ranged = new java.util.concurrent.CopyOnWriteArrayList<>();
      FilePusher recording = hooked((push, items) -> {
        if (!push && items.get(0).ranges() != null) {
          ranged.add(items.get(0).hostPath());
        }
      });
      try (SyncSession s = bigMirrored(link, 32, recording)) {
        Path there = remote.resolve("big.bin");
        long received = tb.stats().bytesToClient();
        editEveryOtherBlockAndCut(s, there, tb, () -> tb.stats().bytesToClient() >= received + (4 << 20));
        assertThat(ranged).as("the delta's blocks were pulled over the bulk plane").isNotEmpty();
        assertThat(Files.mismatch(tmp.resolve("local/big.bin"), there)).isEqualTo(-1);
        assertThat(ours(tmp.resolve("local"))).as("no staged blocks or partial left").isEmpty();
      }
    });
  }

  private static final int FILES = 4;

  /** {@link #FILES} random files of 16 MiB in tmp/local. */
  private Path bigFiles() throws IOException {
    Path local = Files.createDirectories(tmp.resolve("local"));
    Random r = new Random(7);
    for (int i = 0; i < FILES; i++) {
      byte[] b = new byte[16 << 20];
      r.nextBytes(b);
      Files.write(local.resolve("f" + i + ".bin"), b);
    }
    return local;
  }

  /** Pulls the emulated cable (silence, no reset) once {@code bytes} went through it towards the host. */
  private static Thread cutAfter(LinkEmulator tb, long bytes) {
    return cutWhen(tb, () -> tb.stats().bytesToTarget() >= bytes);
  }

  /** Pulls the emulated cable (silence, no reset) once {@code when} holds. */
  private static Thread cutWhen(LinkEmulator tb, java.util.concurrent.Callable<Boolean> when) {
    Thread cutter = new Thread(() -> {
      Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(1)).until(when);
      tb.cut();
    });
    cutter.setDaemon(true);
    cutter.start();
    return cutter;
  }

  private PeerLink tbLink(LinkEmulator tb, boolean withLan) throws Exception {
    PeerLink.Builder b = PeerLink.builder().identity(fx.wsId).peers(fx.wsPeers).transport(fx.transport, fx.workers)
        .addPath(new LinkPath("tb", tb.localAddress(), PathKind.THUNDERBOLT));
    if (withLan) {
      b.addPath(new LinkPath("lan", fx.hostAddress(), PathKind.LAN));
    }
    PeerLink link = fx.track(b.build().start());
    Await.until(Duration.ofSeconds(10), () -> link.activePath().orElse("").equals("tb"), () -> "tb never active: " + link.paths());
    return link;
  }

  /**
   * The pusher keeps its bulk session between batches; a connection idle for twice the stall
   * timeout is closed by either side. The next batch opens a new session first: before, it was
   * pushed into the closed one, failed, waited for a path, and was pushed again.
   */
  @Test
  void aBulkConnectionClosedWhileIdleIsReplacedBeforeTheNextBatchNotAfterItFails() throws Exception {
    Path hostRoot = Files.createDirectories(tmp.resolve("host-root"));
    startHost(BulkConfig.defaults(List.of(hostRoot)).withStallTimeout(Duration.ofMillis(250)));
    PeerLink link = fx.connect();
    AtomicInteger pathWaits = new AtomicInteger();
    BulkClient client = BulkClient.forLink(link).identity(fx.wsId).peers(fx.wsPeers).transport(fx.transport, fx.workers).build();
    try (BulkFilePusher p = new BulkFilePusher(client, t -> {
      pathWaits.incrementAndGet();
      return link.awaitActive(t);
    }, Duration.ofSeconds(10))) {
      Path a = Files.writeString(tmp.resolve("a.txt"), "first batch");
      Path b = Files.writeString(tmp.resolve("b.txt"), "second batch");
      assertThat(p.push(List.of(new FilePusher.Item(a, hostRoot.resolve("a.txt").toString(), Files.size(a)))))
          .containsOnlyNulls();
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> bulkServer.openConnections() == 0);
      assertThat(p.push(List.of(new FilePusher.Item(b, hostRoot.resolve("b.txt").toString(), Files.size(b)))))
          .containsOnlyNulls();
      assertThat(pathWaits).as("no batch failed and waited for a path").hasValue(0);
      assertThat(hostRoot.resolve(".b.txt.tlpart")).hasContent("second batch");
    }
  }

  @Test
  void aPushWhoseOnlyPathDiesReturnsWhatArrivedAndAOneLineReasonForTheRest() throws Exception {
    Path hostRoot = Files.createDirectories(tmp.resolve("host-root"));
    startHost(hostRoot);
    try (LinkEmulator tb = LinkEmulator.start(LinkProfile.THUNDERBOLT, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), fx.hostAddress())) {
      PeerLink link = tbLink(tb, false);
      Path local = bigFiles();
      BulkClient client = BulkClient.forLink(link).identity(fx.wsId).peers(fx.wsPeers).transport(fx.transport, fx.workers).build();
      try (BulkFilePusher only = new BulkFilePusher(client, link::awaitActive, Duration.ofSeconds(1))) {
        List<FilePusher.Item> items = new java.util.ArrayList<>();
        for (int i = 0; i < FILES; i++) {
          items.add(new FilePusher.Item(local.resolve("f" + i + ".bin"), hostRoot.resolve("f" + i + ".bin").toString(), 16 << 20));
        }
        cutAfter(tb, 24 << 20);
        // no path comes back within the failover time: the push returns, it does not throw
        List<String> errors = only.push(items);
        assertThat(errors).hasSize(FILES);
        assertThat(errors).as("the cut file and those after it").filteredOn(java.util.Objects::nonNull).isNotEmpty()
            .allSatisfy(e -> assertThat(e).isNotBlank().doesNotContain("\n"));
        for (int i = 0; i < FILES; i++) {
          if (errors.get(i) == null) { // staged at its partial name for the host's mirror to install
            assertThat(Files.mismatch(local.resolve("f" + i + ".bin"), hostRoot.resolve(".f" + i + ".bin.tlpart")))
                .as("f%d arrived", i).isEqualTo(-1);
          }
          assertThat(hostRoot.resolve("f" + i + ".bin")).as("f%d: nothing under its name", i).doesNotExist();
        }
      }
    }
  }

  @Test
  void aPathCutMidPushFailsOverAndTheMirrorConverges() throws Exception {
    Path hostRoot = Files.createDirectories(tmp.resolve("host-root"));
    startHost(hostRoot);
    try (LinkEmulator tb = LinkEmulator.start(LinkProfile.THUNDERBOLT, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), fx.hostAddress())) {
      PeerLink link = withPusher(tbLink(tb, true));
      // 4 files of 16 MiB: the cable is pulled (silence, no reset) once 24 MiB went through it
      Path local = bigFiles();
      Thread cutter = cutAfter(tb, 24 << 20);
      remote = hostRoot.resolve("tree");
      try (SyncSession s = start(link, local, remote)) {
        s.flush(Duration.ofSeconds(60));
        assertThat(tb.isCut()).as("the cut came during the push").isTrue();
        assertThat(link.activePath()).contains("lan");
        for (int i = 0; i < FILES; i++) {
          assertThat(Files.mismatch(local.resolve("f" + i + ".bin"), remote.resolve("f" + i + ".bin"))).as("f%d", i).isEqualTo(-1);
        }
        assertThat(calls("InstallStaged")).as("the content went over the bulk plane").isPositive();
        assertThat(calls("WriteFiles") + calls("Write")).as("the cut batch was pushed again, not left to gRPC").isZero();
        assertThat(bulkCounters.snapshot().resumedBytes()).as("the cut file resumed from the bytes the host kept").isPositive();
        assertThat(bulkCounters.snapshot().files().values().stream().mapToLong(Long::longValue).sum())
            .as("files pushed over the bulk plane").isPositive();
        try (Stream<Path> all = Files.list(remote)) {
          assertThat(all.map(p -> p.getFileName().toString())).as("only the mirrored files, no temporary copy").hasSize(FILES)
              .allMatch(n -> n.matches("f\\d+\\.bin"));
        }
      } finally {
        cutter.interrupt();
      }
    }
  }

  /** Content of a file larger than the mirror sends in batches (those come from the host by gRPC). */
  private static String big(String line) {
    return line.repeat(300 * 1024 / line.length() + 1);
  }

  /**
   * Mirrors host-root/tree, {@code files} files larger than the batched ones and an executable,
   * to an empty local folder, the host's bulk plane serving only under {@code bulkRoot};
   * returns the session, in sync.
   */
  private SyncSession pulled(String bulkRoot, int files) throws Exception {
    PeerLink link = host(Files.createDirectories(tmp.resolve(bulkRoot)));
    remote = Files.createDirectories(tmp.resolve("host-root/tree"));
    for (int i = 0; i < files; i++) {
      Path f = Files.createDirectories(remote.resolve("d" + i % 2)).resolve("f" + i + ".txt");
      Files.writeString(f, big("line " + i + "\n"));
    }
    Path tool = Files.writeString(remote.resolve("tool.sh"), "#!/bin/sh\n" + big("# padding\n"));
    Files.setPosixFilePermissions(tool, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setLastModifiedTime(tool, java.nio.file.attribute.FileTime.fromMillis(1_600_000_000_000L));
    Path local = Files.createDirectories(tmp.resolve("local"));
    SyncSession s = start(link, local, remote);
    s.flush(Duration.ofSeconds(60));
    assertThat(tree(local)).isEqualTo(tree(remote)).hasSize(files + 3);
    assertThat(ours(local)).isEmpty();
    return s;
  }

  @Test
  void largeHostFilesComeOverTheBulkPlaneAndAreInstalledLocally() throws Exception {
    try (SyncSession s = pulled("host-root", 20)) {
      assertThat(calls("ReadFiles")).isZero();
      assertThat(calls("Read")).isZero();
      Path tool = tmp.resolve("local/tool.sh");
      assertThat(Files.isExecutable(tool)).isTrue();
      assertThat(Files.getLastModifiedTime(tool).toMillis()).isEqualTo(1_600_000_000_000L);
      // a new file on the host later takes the same way
      Files.writeString(remote.resolve("d1/new.txt"), big("made on the host\n"));
      s.flush(Duration.ofSeconds(60));
      assertThat(tmp.resolve("local/d1/new.txt")).hasContent(big("made on the host\n"));
      assertThat(calls("ReadFiles")).isZero();
      assertThat(calls("Read")).isZero();
    }
  }

  @Test
  void hostFilesOutsideTheBulkPlanesRootsComeByGrpc() throws Exception {
    // the host's bulk plane serves only elsewhere: every pull is refused
    try (SyncSession s = pulled("elsewhere", 4)) {
      assertThat(calls("Read")).isPositive();
    }
  }
}
