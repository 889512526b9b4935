package dev.thunderlink.sync.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.sync.CopyingPusher;
import dev.thunderlink.sync.SyncHostService;
import dev.thunderlink.sync.SyncMode;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cycle creates new paths on the host while its local scan still walks and hashes the rest
 * (see {@link SessionEngine}'s early creations), and that changes nothing else: a file edited
 * after its early push still reaches the host, and a mass deletion is still stopped though the
 * creations beside it went early. Real sides: the workstation's disk, the host's service over
 * grpc-netty on 127.0.0.1 with a copying bulk plane, and a hook in the local scan's reports.
 */
class EarlyCreationsTest {
  @TempDir
  Path tmp;

  private Path ra;
  private Path rb;
  private Server server;
  private SyncHostService host;
  private ManagedChannel channel;
  private final CopyingPusher pusher = new CopyingPusher();
  private DiskEndpoint a;
  private RemoteEndpoint b;
  private StateStore state;
  private SessionEngine engine;
  /** Counted down when this cycle's remote changes call has returned. */
  private volatile CountDownLatch remoteAnswered = new CountDownLatch(1);

  @BeforeEach
  void setUp() throws IOException {
    ra = Files.createDirectories(tmp.resolve("a"));
    rb = tmp.resolve("b");
    host = new SyncHostService(tmp.resolve("host-state"), "mini", true, Duration.ofMillis(10));
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(host).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (engine != null) {
      engine.close();
    }
    for (AutoCloseable c : new AutoCloseable[] {a, b, state}) {
      if (c != null) {
        c.close();
      }
    }
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    host.close();
  }

  /**
   * Opens the engine. Each report of the local scan is passed on, then {@code hook} runs on the
   * scanning thread (the scan waits for it). Reports wait for the remote side's answer first, so
   * that early creations happen whatever the timing (the first report may still come a moment
   * before the engine holds that answer, and then waits for the next report to go).
   */
  private void open(double safetyFraction, int safetyMinimum, Consumer<java.util.Map<String, Entry>> hook)
      throws IOException {
    a = DiskEndpoint.open(ra, tmp.resolve("a.db"), DiskEndpoint.Options.defaults("book"), false);
    b = RemoteEndpoint.open(channel, pusher, "s", rb.toString(), List.of(), false, false, false);
    Endpoint local = (Endpoint) Proxy.newProxyInstance(Endpoint.class.getClassLoader(),
        new Class<?>[] {Endpoint.class}, (proxy, m, args) -> {
          if (m.getName().equals("changes") && args.length == 5) {
            Endpoint.ScanProgress engineSide = (Endpoint.ScanProgress) args[4];
            @SuppressWarnings("unchecked")
            Collection<String> hints = (Collection<String>) args[2];
            return a.changes((Long) args[0], (Boolean) args[1], hints, (Endpoint.Held) args[3], found -> {
              await(remoteAnswered);
              engineSide.scanned(found);
              hook.accept(found);
            });
          }
          try {
            return m.invoke(a, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    Endpoint remote = (Endpoint) Proxy.newProxyInstance(Endpoint.class.getClassLoader(),
        new Class<?>[] {Endpoint.class}, (proxy, m, args) -> {
          try {
            return m.invoke(b, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          } finally {
            if (m.getName().equals("changes")) {
              remoteAnswered.countDown();
            }
          }
        });
    state = StateStore.open(tmp.resolve("session.db"));
    engine = new SessionEngine("t", SyncMode.TWO_WAY_SAFE, local, remote, state, 4096, safetyFraction, safetyMinimum,
        Clock.systemUTC());
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(60, TimeUnit.SECONDS)).as("awaited in time").isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Writes {@code n} small files of distinct content under {@code dir}, ten directories deep in all. */
  private static void files(Path root, String dir, int n) throws IOException {
    for (int i = 0; i < n; i++) {
      Path f = root.resolve(dir + "/d" + i % 10 + "/f" + i + ".txt");
      Files.createDirectories(f.getParent());
      Files.writeString(f, dir + " file " + i + "\n".repeat(i % 50));
    }
  }

  /** Waits (with a deadline) until {@code condition} holds. */
  private static void awaitThat(String what, java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }
  }

  /**
   * A hook that runs {@code action} at the scan's second report only (the first may come before
   * the engine holds the remote side's answer; see {@link #open}), counting reports in
   * {@code reports}.
   */
  private static Consumer<java.util.Map<String, Entry>> atSecondReport(AtomicInteger reports,
      Consumer<java.util.Map<String, Entry>> action) {
    return found -> {
      if (reports.incrementAndGet() == 2) {
        action.accept(found);
      }
    };
  }

  /** Waits until the bulk plane has pushed at least one file. */
  private void awaitAPush() {
    awaitThat("a file was pushed while the scan waited", () -> pusher.pushed.get() > 0);
  }

  /** Every regular file and directory under {@code root} with its content ("" for a directory). */
  private static TreeMap<String, String> tree(Path root) throws IOException {
    TreeMap<String, String> out = new TreeMap<>();
    try (Stream<Path> w = Files.walk(root)) {
      for (Path p : (Iterable<Path>) w::iterator) {
        if (!p.equals(root)) {
          out.put(root.relativize(p).toString(), Files.isDirectory(p) ? "" : Files.readString(p, UTF_8));
        }
      }
    }
    return out;
  }

  @Test
  void newFilesArePushedWhileTheScanIsStillRunning() throws Exception {
    files(ra, "src", 1200);
    AtomicBoolean pushedDuringScan = new AtomicBoolean();
    AtomicInteger reports = new AtomicInteger();
    open(0.5, 1000, atSecondReport(reports, found -> {
      awaitAPush(); // without early creations nothing is pushed before the scan ends
      pushedDuringScan.set(true);
    }));

    engine.runUntilStable(true, false);

    assertThat(pushedDuringScan).isTrue();
    assertThat(reports.get()).isGreaterThan(2);
    assertThat(tree(rb)).isEqualTo(tree(ra)).hasSize(1211);
    assertThat(engine.filesTransferred()).as("each file once").isEqualTo(1200);
    assertThat(pusher.pushed.get()).isEqualTo(1200);
    assertThat(engine.errors()).isEmpty();
    assertThat(engine.ancestorView()).hasSize(1211);
  }

  @Test
  void aFileEditedAfterItsEarlyPushStillReachesTheHost() throws Exception {
    files(ra, "src", 600);
    AtomicBoolean edited = new AtomicBoolean();
    AtomicInteger reports = new AtomicInteger();
    open(0.5, 1000, atSecondReport(reports, found -> {
      awaitAPush();
      String first = found.keySet().stream().filter(p -> p.endsWith(".txt")).findFirst().orElseThrow();
      try {
        // installed early with the content the scan hashed; edited before the scan ends
        awaitThat(first + " installed early", () -> Files.exists(rb.resolve(first)));
        Path f = ra.resolve(first);
        Files.writeString(f, "edited while the scan went on");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5000));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      edited.set(true);
    }));

    engine.runUntilStable(true, false);
    // the edit came after the scan had hashed that file: the next full scan (a flush, or the
    // watcher's hint) finds it; nothing on the host may stand in its way
    engine.runUntilStable(true, false);

    assertThat(edited).isTrue();
    assertThat(tree(rb)).isEqualTo(tree(ra)).containsValue("edited while the scan went on");
    assertThat(engine.errors()).isEmpty();
    assertThat(state.conflicts()).isEmpty();
  }

  @Test
  void aMassDeletionIsStillStoppedThoughTheCreationsBesideItWentEarly() throws Exception {
    files(ra, "old", 300);
    open(0.5, 50, found -> { });
    engine.runUntilStable(true, false);
    assertThat(tree(rb)).hasSize(311);

    try (Stream<Path> w = Files.walk(ra.resolve("old"))) {
      w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    files(ra, "new", 2000);
    remoteAnswered = new CountDownLatch(1);
    int pushedBefore = pusher.pushed.get();

    // 311 deletions of 311 entries: stopped, though most of the 2,011 creations beside them
    // (counted among the host's entries, they would hide the deletions' share) were made while
    // the scan ran
    assertThatThrownBy(() -> engine.runUntilStable(true, false)).isInstanceOf(SessionEngine.SafetyStop.class)
        .hasMessageContaining("would delete 311 of 311 entries");
    assertThat(pusher.pushed.get() - pushedBefore).as("creations went early").isGreaterThan(311);
    try (Stream<Path> w = Files.walk(rb.resolve("old"))) {
      assertThat(w.filter(Files::isRegularFile).count()).as("nothing deleted on the host").isEqualTo(300);
    }
  }

  @Test
  void aMovedTreeIsStillRenamedNotSentAgainAndDeleted() throws Exception {
    files(ra, "old", 300);
    open(0.5, 50, found -> { });
    engine.runUntilStable(true, false);
    long sent = engine.filesTransferred();

    Files.move(ra.resolve("old"), ra.resolve("new"));
    remoteAnswered = new CountDownLatch(1);

    // sent early, the files under their new names would be creations, and the old names 300
    // deletions of 311 entries: a safety stop where the user only moved a folder
    engine.runUntilStable(true, false);

    assertThat(engine.renames()).isEqualTo(300);
    assertThat(engine.filesTransferred()).isEqualTo(sent);
    assertThat(tree(rb)).isEqualTo(tree(ra)).hasSize(311);
  }
}
