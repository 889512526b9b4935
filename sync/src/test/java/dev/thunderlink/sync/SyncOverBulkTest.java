package dev.thunderlink.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.proto.sync.ApplyResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session whose small files go through a {@link FilePusher} and the host's InstallStaged
 * call, over a real grpc-netty server on 127.0.0.1. The pusher here copies on this machine the
 * way the bulk receiver does (a {@code .NAME.tlpart} beside the destination with the source's
 * mtime and executable bit, left there for a staged push, else renamed when complete); the
 * daemon's tests run the real one.
 */
class SyncOverBulkTest {
  @TempDir
  Path tmp;

  private LoopbackSyncHost host;
  private final SyncCallLog calls = new SyncCallLog();
  private final CopyingPusher pusher = new CopyingPusher();
  private Path a;
  private Path b;

  @BeforeEach
  void setUp() throws IOException {
    a = Files.createDirectories(tmp.resolve("a"));
    b = tmp.resolve("b");
    host = new LoopbackSyncHost(tmp.resolve("host-state"));
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    host.close();
  }

  /** A session of {@code local} with the host's b, its workstation state in {@code state}. */
  private SyncSessionConfig.Builder config(Path local, String state) {
    return SyncSessionConfig.builder("proj").localRoot(local).remoteRoot(b.toString()).stateDir(tmp.resolve(state))
        .deviceName("book").watch(false).rescanInterval(Duration.ofHours(1));
  }

  private SyncSession start(SyncSessionConfig.Builder config) throws IOException {
    return SyncSession.start(config.build(), calls.wrap(host.channel()), pusher);
  }

  private SyncSession start() throws IOException {
    return start(config(a, "ws-state"));
  }

  /**
   * Copies like the bulk plane's receiver, both ways (an item with ranges: only those bytes, back
   * to back); hooks run around each file (given its source, its copy).
   */
  static final class CopyingPusher implements FilePusher {
    volatile IOException failWith;
    /** Pushes are staged (left at the partial name, as the daemon's pusher asks), unless this is cleared. */
    volatile boolean stages = true;
    volatile java.util.function.Consumer<Path> beforeCopy = p -> { };
    volatile java.util.function.Consumer<Path> afterCopy = p -> { };
    final AtomicInteger pushed = new AtomicInteger();
    final AtomicInteger pulled = new AtomicInteger();

    @Override
    public List<String> push(List<Item> items) throws IOException {
      return copy(items, true);
    }

    @Override
    public List<String> pull(List<Item> items) throws IOException {
      return copy(items, false);
    }

    private List<String> copy(List<Item> items, boolean push) throws IOException {
      if (failWith != null) {
        throw failWith;
      }
      List<String> out = new ArrayList<>();
      for (Item i : items) {
        Path from = push ? i.local() : Path.of(i.hostPath());
        Path dest = push ? Path.of(i.hostPath()) : i.local();
        beforeCopy.accept(from);
        Path part = dest.resolveSibling("." + dest.getFileName() + ".tlpart");
        if (i.ranges() == null) {
          Files.copy(from, part);
        } else {
          byte[] all = Files.readAllBytes(from);
          try (java.io.OutputStream o = Files.newOutputStream(part, java.nio.file.StandardOpenOption.CREATE_NEW)) {
            for (long[] r : i.ranges()) {
              o.write(all, (int) r[0], (int) r[1]);
            }
          }
        }
        Files.setLastModifiedTime(part, Files.getLastModifiedTime(from));
        Files.setPosixFilePermissions(part, Files.getPosixFilePermissions(from));
        if (i.sha256() != null && i.ranges() == null
            && !dev.thunderlink.sync.internal.ContentHash.ofFile(part).equals(i.sha256())) {
          Files.delete(part); // as the plane's receiver: the content is not what the sender scanned
          out.add("content of " + dest + " is not what the sender scanned: the source changed since");
          continue;
        }
        if (push && stages && i.ranges() == null) { // a delta's blocks land at their path, as the plane does
          afterCopy.accept(part);
        } else {
          Files.move(part, dest, StandardCopyOption.ATOMIC_MOVE);
          afterCopy.accept(dest);
        }
        (push ? pushed : pulled).incrementAndGet();
        out.add(null);
      }
      return out;
    }
  }

  private static List<String> ours(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.contains("thunderlink-tmp-")).toList();
    }
  }

  @Test
  void smallFilesTravelByThePusherAndAreInstalledOnTheHost() throws Exception {
    for (int i = 0; i < 300; i++) {
      Path f = a.resolve("d" + i % 7 + "/f" + i + ".txt");
      Files.createDirectories(f.getParent());
      Files.writeString(f, "file " + i + "\n".repeat(i));
    }
    Path tool = Files.writeString(a.resolve("tool.sh"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setLastModifiedTime(tool, FileTime.fromMillis(1_600_000_000_000L));
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      assertThat(SyncPair.tree(b)).isEqualTo(SyncPair.tree(a)).hasSize(308);
      assertThat(pusher.pushed.get()).isEqualTo(301);
      assertThat(calls.calls("InstallStaged")).isPositive();
      assertThat(calls.calls("WriteFiles")).isZero();
      assertThat(calls.installs(ApplyResponse.Outcome.OK)).isEqualTo(301);
      assertThat(Files.isExecutable(b.resolve("tool.sh"))).isTrue();
      assertThat(Files.getLastModifiedTime(b.resolve("tool.sh")).toMillis()).isEqualTo(1_600_000_000_000L);
      assertThat(ours(b)).isEmpty();
      assertThat(s.status().filesTransferred()).isEqualTo(301);
    }
  }

  /** A host's bulk plane that predates staged pushes renames each copy to the name it was pushed to. */
  @Test
  void copiesABulkPlaneRenamedToTheirPushedNamesAreInstalledToo() throws Exception {
    pusher.stages = false;
    for (int i = 0; i < 40; i++) {
      Files.writeString(a.resolve("f" + i + ".txt"), "file " + i);
    }
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      assertThat(SyncPair.tree(b)).isEqualTo(SyncPair.tree(a)).hasSize(40);
      assertThat(calls.installs(ApplyResponse.Outcome.OK)).isEqualTo(40);
      assertThat(calls.calls("WriteFiles")).isZero();
      assertThat(ours(b)).isEmpty();
    }
  }

  @Test
  void aLargeNewFileIsPushedWholeAndAnEditOfItStillTravelsAsADelta() throws Exception {
    byte[] big = new byte[3 * 1024 * 1024];
    new java.util.Random(7).nextBytes(big);
    Files.write(a.resolve("big.bin"), big);
    try (SyncSession s = start(config(a, "ws-state").blockSize(64 * 1024))) {
      s.flush(Duration.ofSeconds(60));
      assertThat(java.util.Arrays.equals(Files.readAllBytes(b.resolve("big.bin")), big)).isTrue();
      assertThat(pusher.pushed.get()).isEqualTo(1);
      assertThat(calls.calls("Write")).isZero();
      assertThat(calls.installs(ApplyResponse.Outcome.OK)).isEqualTo(1);

      long sent = s.status().bytesSent();
      big[1_000_000] ^= 0x55;
      Files.write(a.resolve("big.bin"), big);
      s.flush(Duration.ofSeconds(60));
      assertThat(java.util.Arrays.equals(Files.readAllBytes(b.resolve("big.bin")), big)).isTrue();
      assertThat(s.status().bytesSent() - sent).as("one block, using the fingerprints the install kept").isEqualTo(64 * 1024);
      assertThat(pusher.pushed.get()).as("the whole file, then the delta's block").isEqualTo(2);
      assertThat(ours(b)).isEmpty();
    }
  }

  @Test
  void aFileChangedBetweenScanAndPushIsReconciledNotInstalled() throws Exception {
    Path f = Files.writeString(a.resolve("edited.txt"), "as scanned");
    pusher.beforeCopy = p -> {
      if (p.equals(f) && pusher.pushed.get() == 0) {
        try {
          Files.writeString(f, "AS SCANNED"); // same size: only the hash tells
          Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5000));
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    };
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      // the copy is refused where it lands (it is not the scanned content), so nothing installs it
      assertThat(calls.installs(ApplyResponse.Outcome.CHANGED)).isZero();
      assertThat(b.resolve("edited.txt")).hasContent("AS SCANNED");
      assertThat(SyncPair.tree(b)).isEqualTo(SyncPair.tree(a));
      assertThat(ours(b)).isEmpty();
    }
  }

  /**
   * A push whose every file was saved again on its way fails as a whole, but the files explain
   * it, not the plane: the plane stays up, and the next file goes over it again rather than by
   * gRPC for the next half minute.
   */
  @Test
  void aPushWhoseEveryFileChangedOnItsWayLeavesThePlaneUp() throws Exception {
    Path x = Files.writeString(a.resolve("x.txt"), "x as scanned");
    Path y = Files.writeString(a.resolve("y.txt"), "y as scanned");
    java.util.Set<Path> edited = java.util.concurrent.ConcurrentHashMap.newKeySet();
    pusher.beforeCopy = p -> {
      if ((p.equals(x) || p.equals(y)) && edited.add(p)) {
        try {
          Files.writeString(p, "saved again, longer"); // an editor's second save
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    };
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      assertThat(b.resolve("x.txt")).hasContent("saved again, longer");
      assertThat(b.resolve("y.txt")).hasContent("saved again, longer");
      int viaGrpc = calls.calls("WriteFiles");
      int pushed = pusher.pushed.get();
      Files.writeString(a.resolve("z.txt"), "after");
      s.flush(Duration.ofSeconds(60));
      assertThat(b.resolve("z.txt")).hasContent("after");
      assertThat(pusher.pushed.get()).as("z.txt over the plane").isEqualTo(pushed + 1);
      assertThat(calls.calls("WriteFiles")).isEqualTo(viaGrpc);
    }
  }

  @Test
  void aDestinationWrittenOnTheHostBetweenPushAndInstallIsNotClobbered() throws Exception {
    Files.writeString(a.resolve("both.txt"), "the workstation's");
    java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
    pusher.afterCopy = staged -> {
      try {
        if (once.compareAndSet(false, true)) {
          Files.writeString(b.resolve("both.txt"), "the host's");
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      assertThat(calls.installs(ApplyResponse.Outcome.CHANGED)).isEqualTo(1);
      Map<String, String> tree = SyncPair.tree(b);
      assertThat(tree).isEqualTo(SyncPair.tree(a));
      assertThat(tree.values()).contains("the workstation's", "the host's"); // a conflict keeps both
      assertThat(ours(b)).isEmpty();
    }
  }

  /**
   * Small files pushed over the plane go in batches larger than a gRPC call's (their call holds
   * only names and hashes): 600 files, one InstallStaged call.
   */
  @Test
  void smallFilesPushedOverThePlaneGoInLargeBatches() throws Exception {
    for (int i = 0; i < 600; i++) {
      Files.writeString(a.resolve("f" + i + ".txt"), "v" + i);
    }
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      assertThat(SyncPair.tree(b)).isEqualTo(SyncPair.tree(a)).hasSize(600);
      assertThat(pusher.pushed.get()).isEqualTo(600);
      assertThat(calls.calls("InstallStaged")).isEqualTo(1);
      assertThat(calls.installs(ApplyResponse.Outcome.OK)).isEqualTo(600);
    }
  }

  /**
   * When the pusher fails, files go by gRPC and the session converges; a batch gathered for
   * the plane (600 files) goes in calls no larger than a gRPC batch's ({@code
   * SessionEngine.WHOLE_BATCH_FILES}, 256): at least 3 calls.
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "{0} files")
  @org.junit.jupiter.params.provider.CsvSource({"50, 1", "600, 3"})
  void whenThePusherFailsFilesGoByGrpcInCallsOfTheUsualSizeAndTheSessionConverges(int files, int leastCalls)
      throws Exception {
    for (int i = 0; i < files; i++) {
      Files.writeString(a.resolve("f" + i + ".txt"), "v" + i);
    }
    pusher.failWith = new IOException("bulk session refused");
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      assertThat(SyncPair.tree(b)).isEqualTo(SyncPair.tree(a)).hasSize(files);
      assertThat(calls.calls("InstallStaged")).isZero();
      assertThat(calls.calls("WriteFiles")).as(files + " files, at most 256 a call").isGreaterThanOrEqualTo(leastCalls);
    }
  }

  @Test
  void stagedCopiesLeftOnTheHostAreSweptAndNeverSynced() throws Exception {
    Files.writeString(a.resolve("keep.txt"), "kept");
    try (SyncSession first = start()) {
      first.flush(Duration.ofSeconds(60));
      // a workstation that died between push and install leaves copies and partials behind,
      // and the host's endpoint open: the restarted session opens it again
      Files.createDirectories(b.resolve("sub"));
      Files.writeString(b.resolve("sub/.thunderlink-tmp-5eed"), "pushed, never installed");
      Files.writeString(b.resolve("..thunderlink-tmp-beef.tlpart"), "half a push");
      Path again = Files.createDirectories(tmp.resolve("a-again"));
      Files.writeString(again.resolve("later.txt"), "later");
      try (SyncSession restarted = start(config(again, "ws-state-again"))) {
        restarted.flush(Duration.ofSeconds(60));
        assertThat(ours(b)).isEmpty();
        assertThat(ours(again)).isEmpty();
        assertThat(SyncPair.tree(b)).isEqualTo(SyncPair.tree(again)).containsOnlyKeys("keep.txt", "later.txt", "sub");
      }
    }
  }

  /** Content of a file larger than the mirror sends in batches (those come from the host by gRPC). */
  private static String big(String line) {
    return line.repeat(300 * 1024 / line.length() + 1);
  }

  /** Writes files larger than the batched ones (and an executable with an old mtime) under {@code root}; returns how many. */
  private static int largeFiles(Path root) throws IOException {
    for (int i = 0; i < 12; i++) {
      Path f = root.resolve("d" + i % 3 + "/f" + i + ".txt");
      Files.createDirectories(f.getParent());
      Files.writeString(f, big("file " + i + "\n"));
    }
    Path tool = Files.writeString(root.resolve("tool.sh"), "#!/bin/sh\n" + big("# padding\n"));
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setLastModifiedTime(tool, FileTime.fromMillis(1_600_000_000_000L));
    return 13;
  }

  @Test
  void largeHostFilesArePulledByThePusherAndInstalledLocally() throws Exception {
    int files = largeFiles(Files.createDirectories(b));
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      assertThat(SyncPair.tree(a)).isEqualTo(SyncPair.tree(b)).hasSize(files + 3);
      assertThat(pusher.pulled.get()).isEqualTo(files);
      assertThat(pusher.pushed.get()).isZero();
      assertThat(calls.calls("ReadFiles")).isZero();
      assertThat(calls.calls("Read")).isZero();
      assertThat(Files.isExecutable(a.resolve("tool.sh"))).isTrue();
      assertThat(Files.getLastModifiedTime(a.resolve("tool.sh")).toMillis()).isEqualTo(1_600_000_000_000L);
      assertThat(ours(a)).isEmpty();
      assertThat(s.status().filesTransferred()).isEqualTo(files);
    }
  }

  @Test
  void smallHostFilesComeInBatchesByGrpc() throws Exception {
    Files.createDirectories(b);
    // more than a changes answer carries the content of (64 changes): an edit's few come in it
    for (int i = 0; i < 100; i++) {
      Files.writeString(b.resolve("f" + i + ".txt"), "v" + i);
    }
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      assertThat(SyncPair.tree(a)).isEqualTo(SyncPair.tree(b)).hasSize(100);
      assertThat(calls.calls("ReadFiles")).isPositive();
      assertThat(pusher.pulled.get()).isZero();
    }
  }

  @Test
  void aLargeHostFileIsPulledWholeAndAnEditOfItStillTravelsAsADelta() throws Exception {
    byte[] big = new byte[3 * 1024 * 1024];
    new java.util.Random(7).nextBytes(big);
    Files.write(Files.createDirectories(b).resolve("big.bin"), big);
    try (SyncSession s = start(config(a, "ws-state").blockSize(64 * 1024))) {
      s.flush(Duration.ofSeconds(60));
      assertThat(java.util.Arrays.equals(Files.readAllBytes(a.resolve("big.bin")), big)).isTrue();
      assertThat(pusher.pulled.get()).isEqualTo(1);
      assertThat(calls.calls("Read")).isZero();

      long sent = s.status().bytesSent();
      big[1_000_000] ^= 0x55;
      Files.write(b.resolve("big.bin"), big);
      s.flush(Duration.ofSeconds(60));
      assertThat(java.util.Arrays.equals(Files.readAllBytes(a.resolve("big.bin")), big)).isTrue();
      assertThat(s.status().bytesSent() - sent).as("one block, using the fingerprints the install kept").isEqualTo(64 * 1024);
      assertThat(pusher.pulled.get()).as("the whole file, then the delta's block").isEqualTo(2);
      assertThat(calls.calls("Read")).isZero();
      assertThat(ours(a)).isEmpty();
    }
  }

  @Test
  void aHostFileChangedBetweenScanAndPullIsReconciledNotInstalled() throws Exception {
    Path f = Files.writeString(Files.createDirectories(b).resolve("edited.txt"), big("as scanned\n"));
    pusher.beforeCopy = p -> {
      if (p.equals(f) && pusher.pulled.get() == 0) {
        try {
          Files.writeString(f, big("AS SCANNED\n")); // same size: only the hash tells
          Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5000));
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    };
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      assertThat(pusher.pulled.get()).as("pulled again once reconciled").isEqualTo(2);
      assertThat(a.resolve("edited.txt")).hasContent(big("AS SCANNED\n"));
      assertThat(SyncPair.tree(a)).isEqualTo(SyncPair.tree(b));
      assertThat(ours(a)).isEmpty();
    }
  }

  @Test
  void aLocalFileWrittenBetweenPullAndInstallIsNotClobbered() throws Exception {
    Files.writeString(Files.createDirectories(b).resolve("both.txt"), big("the host's\n"));
    java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
    pusher.afterCopy = copy -> {
      try {
        if (copy.startsWith(a) && once.compareAndSet(false, true)) {
          Files.writeString(a.resolve("both.txt"), "the workstation's");
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      Map<String, String> tree = SyncPair.tree(a);
      assertThat(tree).isEqualTo(SyncPair.tree(b));
      assertThat(tree.values()).contains("the workstation's", big("the host's\n")); // a conflict keeps both
      assertThat(s.conflicts()).hasSize(1);
      assertThat(ours(a)).isEmpty();
    }
  }

  @Test
  void whenThePullsFailFilesComeByGrpcAndTheSessionConverges() throws Exception {
    Files.createDirectories(b);
    for (int i = 0; i < 10; i++) {
      Files.writeString(b.resolve("f" + i + ".txt"), big("v" + i + "\n"));
    }
    pusher.failWith = new IOException("bulk session refused");
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      assertThat(SyncPair.tree(a)).isEqualTo(SyncPair.tree(b)).hasSize(10);
      assertThat(calls.calls("Read")).isPositive();
      assertThat(pusher.pulled.get()).isZero();
    }
  }

  @Test
  void pulledCopiesLeftInTheLocalTreeAreSweptAndNeverSynced() throws Exception {
    Files.writeString(Files.createDirectories(b).resolve("keep.txt"), big("kept\n"));
    // a workstation that died between pull and install leaves copies and partials behind
    Files.createDirectories(a.resolve("sub"));
    Files.writeString(a.resolve("sub/.thunderlink-tmp-5eed"), "pulled, never installed");
    Files.writeString(a.resolve("..thunderlink-tmp-beef.tlpart"), "half a pull");
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      assertThat(ours(a)).isEmpty();
      assertThat(ours(b)).isEmpty();
      assertThat(SyncPair.tree(a)).isEqualTo(SyncPair.tree(b)).containsOnlyKeys("keep.txt", "sub");
      assertThat(pusher.pulled.get()).isEqualTo(1);
    }
  }
}
