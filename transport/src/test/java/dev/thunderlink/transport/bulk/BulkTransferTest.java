package dev.thunderlink.transport.bulk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.proto.bulk.FileEntry;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.TransportKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every payload mode, both directions, over every transport that loads here. */
class BulkTransferTest {
  @TempDir Path tmp;

  static List<TransportKind> transports() {
    return TransportFactory.availableKinds();
  }

  static Stream<Arguments> transportsAndModes() {
    List<Arguments> out = new ArrayList<>();
    for (TransportKind k : transports()) {
      for (TransferMode m : TransferMode.values()) {
        out.add(Arguments.of(k, m));
      }
    }
    return out.stream();
  }

  private BulkFixture fixture(TransportKind kind, TransferMode mode) throws Exception {
    return BulkFixture.forMode(tmp, kind, mode);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("transportsAndModes")
  void pushAndPullInEachModeVerifyContentExecBitAndMtime(TransportKind kind, TransferMode mode) throws Exception {
    try (BulkFixture f = fixture(kind, mode)) {
      Path src =
          mode == TransferMode.LZ4
              ? TestFiles.text(tmp.resolve("src/tool.txt"), 3 * 1024 * 1024 + 17)
              : TestFiles.random(tmp.resolve("src/tool.bin"), 3 * 1024 * 1024 + 17, 1);
      Files.setPosixFilePermissions(src, PosixFilePermissions.fromString("rwxr-x---"));
      Files.setLastModifiedTime(src, FileTime.fromMillis(1_600_000_000_000L));
      Path dest = f.root.resolve("sub/dir/copy");
      try (BulkSession s = f.client.open()) {
        assertThat(s.encrypted()).isEqualTo(mode == TransferMode.TLS);
        List<TransferResult> r = s.push(List.of(new PushItem(src, dest.toString(), null)), TransferListener.NONE);
        assertThat(r).singleElement().satisfies(x -> {
          assertThat(x.error()).isNull();
          assertThat(x.mode()).isEqualTo(mode);
        });
      }
      assertThat(Files.mismatch(src, dest)).isEqualTo(-1);
      assertThat(Files.isExecutable(dest)).isTrue();
      assertThat(Files.getLastModifiedTime(dest).toMillis()).isEqualTo(1_600_000_000_000L);
      assertThat(f.bulkServer.counters().snapshot().payloadBytes().get(mode)).isEqualTo(Files.size(src));
      if (mode == TransferMode.LZ4) {
        assertThat(f.bulkServer.counters().snapshot().wireBytes().get(mode)).isLessThan(Files.size(src) / 2);
      }

      Path back = tmp.resolve("back/copy");
      f.traffic.clear();
      try (BulkSession s = f.client.open()) {
        List<TransferResult> r =
            s.pull(List.of(new PullItem(dest.toString(), back, Files.size(dest))), TransferListener.NONE);
        assertThat(r).singleElement().satisfies(x -> assertThat(x.error()).isNull());
      }
      assertThat(Files.mismatch(src, back)).isEqualTo(-1);
      // what the bulk connection receives counts as the path being alive (PeerLink#trafficOn)
      assertThat(f.traffic).as("traffic reported by the bulk connection").isNotEmpty().containsOnly("test");
      assertThat(Files.isExecutable(back)).isTrue();
      assertThat(Files.getLastModifiedTime(back).toMillis()).isEqualTo(1_600_000_000_000L);
      assertThat(f.server.boundAddresses()).isNotEmpty();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void autoModeProbesEachPayload(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind, null)) {
      Path big = TestFiles.random(tmp.resolve("src/big.bin"), 2 * 1024 * 1024, 2);
      Path small = TestFiles.random(tmp.resolve("src/small.bin"), 3000, 3);
      Path text = TestFiles.text(tmp.resolve("src/text.txt"), 500_000);
      Path empty = Files.write(tmp.resolve("src/empty"), new byte[0]);
      try (BulkSession s = f.client.open()) {
        List<TransferResult> r =
            s.push(
                List.of(
                    new PushItem(big, "big.bin", null),
                    new PushItem(small, "small.bin", null),
                    new PushItem(text, "text.txt", null),
                    new PushItem(empty, "empty", null)),
                TransferListener.NONE);
        assertThat(r).extracting(TransferResult::error).containsOnlyNulls();
        assertThat(r).extracting(TransferResult::mode)
            .containsExactly(TransferMode.ZERO_COPY, TransferMode.HEAP, TransferMode.LZ4, TransferMode.HEAP);
      }
      for (String n : List.of("big.bin", "small.bin", "text.txt", "empty")) {
        assertThat(Files.mismatch(tmp.resolve("src").resolve(n), f.root.resolve(n))).isEqualTo(-1);
      }
    }
  }

  /**
   * A receive queue of a few frames: the host's reading pauses whenever its disk thread falls
   * behind and must resume each time (the disk thread wakes the event loop only while paused),
   * or the push stalls. Many small files after a large one, both ways round.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aTinyReceiveQueuePausesAndResumesReading(TransportKind kind) throws Exception {
    Path root = tmp.resolve("root");
    BulkConfig host = new BulkConfig(
        List.of(root), true, 256 * 1024, 64 * 1024, 64 * 1024, true, null, 256 * 1024, java.time.Duration.ofSeconds(30));
    List<PushItem> items = new ArrayList<>();
    items.add(new PushItem(TestFiles.random(tmp.resolve("src/big.bin"), 16 * 1024 * 1024 + 5, 7), "big.bin", null));
    for (int i = 0; i < 200; i++) {
      items.add(new PushItem(TestFiles.text(tmp.resolve("src/s" + i + ".txt"), 1000 + 97 * i), "small/s" + i + ".txt", null));
    }
    try (BulkFixture f = new BulkFixture(tmp, kind, host, BulkConfig.defaults(List.of()).withFrames(256 * 1024, 64 * 1024), PathKind.LOOPBACK);
        BulkSession s = f.client.open()) {
      List<TransferResult> r = s.push(items, TransferListener.NONE);
      assertThat(r).extracting(TransferResult::error).containsOnlyNulls();
    }
    for (PushItem it : items) {
      assertThat(Files.mismatch(it.local(), root.resolve(it.remotePath()))).as(it.remotePath()).isEqualTo(-1);
    }
  }

  /**
   * On a fast path (loopback, Thunderbolt) a compressible file of at most one LZ4 block goes
   * raw (compressing it costs more than sending it there); a larger one is still probed and
   * goes LZ4; on a slower path (LAN) the small one goes LZ4 too.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void smallCompressibleFilesGoRawOnFastPathsOnly(TransportKind kind) throws Exception {
    Path small = TestFiles.text(tmp.resolve("src/small.txt"), 16 * 1024);
    Path large = TestFiles.text(tmp.resolve("src/large.txt"), BulkConfig.LZ4_BLOCK_BYTES + 1);
    Path root = tmp.resolve("root");
    for (PathKind path : List.of(PathKind.LOOPBACK, PathKind.LAN)) {
      try (BulkFixture f = new BulkFixture(tmp, kind, BulkFixture.config(root), BulkConfig.defaults(List.of()), path);
          BulkSession s = f.client.open()) {
        List<TransferResult> r =
            s.push(
                List.of(new PushItem(small, path + "/small.txt", null), new PushItem(large, path + "/large.txt", null)),
                TransferListener.NONE);
        assertThat(r).extracting(TransferResult::error).containsOnlyNulls();
        assertThat(r).extracting(TransferResult::mode)
            .as(path.toString())
            .containsExactly(path == PathKind.LOOPBACK ? TransferMode.HEAP : TransferMode.LZ4, TransferMode.LZ4);
      }
      assertThat(Files.mismatch(small, root.resolve(path + "/small.txt"))).isEqualTo(-1);
      assertThat(Files.mismatch(large, root.resolve(path + "/large.txt"))).isEqualTo(-1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void manySmallFilesArePipelinedBothWaysAndIdenticalOnesSkipped(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind, null)) {
      List<PushItem> items = new ArrayList<>();
      List<String> remote = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        Path p = i % 2 == 0
            ? TestFiles.text(tmp.resolve("src/d" + i % 7 + "/f" + i), 1024 + i * 37)
            : TestFiles.random(tmp.resolve("src/d" + i % 7 + "/f" + i), 1024 + i * 37, i);
        String r = "tree/d" + i % 7 + "/f" + i;
        remote.add(r);
        items.add(new PushItem(p, r, null));
      }
      try (BulkSession s = f.client.open()) {
        assertThat(s.push(items, TransferListener.NONE)).allSatisfy(r -> assertThat(r.error()).isNull());
        List<FileEntry> st = s.stat(remote);
        List<PushItem> again = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
          again.add(new PushItem(items.get(i).local(), remote.get(i), st.get(i)));
        }
        assertThat(s.push(again, TransferListener.NONE)).allSatisfy(r -> assertThat(r.skipped()).isTrue());

        List<FileEntry> listed = s.list("tree");
        List<PullItem> pulls = new ArrayList<>();
        for (FileEntry e : listed) {
          if (!e.getDirectory()) {
            pulls.add(new PullItem("tree/" + e.getPath(), tmp.resolve("back").resolve(e.getPath()), e.getSize()));
          }
        }
        assertThat(pulls).hasSize(400);
        assertThat(s.pull(pulls, TransferListener.NONE)).allSatisfy(r -> assertThat(r.error()).isNull());
      }
      for (int i = 0; i < 400; i++) {
        assertThat(Files.mismatch(items.get(i).local(), tmp.resolve("back/d" + i % 7 + "/f" + i))).isEqualTo(-1);
      }
    }
  }

  /**
   * A staged push (the mirror's) leaves each verified file at its partial name with the
   * sender's mtime and executable bit, and nothing under its path: the mirror renames it
   * straight to its destination, one rename instead of two.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aStagedPushLeavesTheVerifiedFileAtItsPartialNameAndNothingAtItsPath(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind, null)) {
      Path small = TestFiles.text(tmp.resolve("src/small.txt"), 5000);
      Path tool = TestFiles.random(tmp.resolve("src/tool.bin"), 3 * 1024 * 1024 + 17, 3);
      Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-x---"));
      Files.setLastModifiedTime(tool, FileTime.fromMillis(1_600_000_000_000L));
      Path dir = f.root.resolve("staged");
      try (BulkSession s = f.client.open()) {
        assertThat(s.pushStaged(List.of(new PushItem(small, dir.resolve("a").toString(), null),
            new PushItem(tool, dir.resolve("b").toString(), null)), TransferListener.NONE))
            .allSatisfy(r -> assertThat(r.error()).isNull());
      }
      assertThat(dir.resolve("a")).doesNotExist();
      assertThat(dir.resolve("b")).doesNotExist();
      assertThat(Files.mismatch(small, dir.resolve(".a.tlpart"))).isEqualTo(-1);
      Path b = dir.resolve(".b.tlpart");
      assertThat(Files.mismatch(tool, b)).isEqualTo(-1);
      assertThat(Files.isExecutable(b)).isTrue();
      assertThat(Files.getLastModifiedTime(b).toMillis()).isEqualTo(1_600_000_000_000L);
    }
  }

  /**
   * The mirror hands each pushed file's scanned SHA-256 in: the file is then not hashed as it is
   * sent, and the host's own SHA-256 of what it wrote must equal it. A file whose content is no
   * longer what was scanned (same size and time, other bytes) is refused with words that say so,
   * and leaves nothing behind.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aPushGivenTheScannedSha256IsCheckedAgainstItOnTheHost(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind, null)) {
      Path small = TestFiles.text(tmp.resolve("src/small.txt"), 5000);
      Path big = TestFiles.random(tmp.resolve("src/big.bin"), 3 * 1024 * 1024 + 17, 5); // in frames, zero-copy on plaintext
      Path edited = TestFiles.text(tmp.resolve("src/edited.txt"), 5000);
      byte[] scannedBeforeTheEdit = sha256(TestFiles.random(tmp.resolve("src/other.bin"), 5000, 6));
      Path dir = f.root.resolve("known");
      try (BulkSession s = f.client.open()) {
        List<TransferResult> r = s.pushStaged(List.of(
            new PushItem(small, dir.resolve("a").toString(), null, null, null, sha256(small)),
            new PushItem(big, dir.resolve("b").toString(), null, null, null, sha256(big)),
            new PushItem(edited, dir.resolve("c").toString(), null, null, null, scannedBeforeTheEdit)),
            TransferListener.NONE);
        assertThat(r.get(0).error()).isNull();
        assertThat(r.get(1).error()).isNull();
        assertThat(r.get(2).error()).contains("is not what the sender scanned").contains("the source changed since");
      }
      assertThat(Files.mismatch(small, dir.resolve(".a.tlpart"))).isEqualTo(-1);
      assertThat(Files.mismatch(big, dir.resolve(".b.tlpart"))).isEqualTo(-1);
      assertThat(dir.resolve(".c.tlpart")).doesNotExist();
      assertThat(dir.resolve("c")).doesNotExist();
    }
  }

  /**
   * A push given the scan's attributes with its hash sends that version: the scanned mtime and
   * executable bit, even when the file was touched since (same content), and the scanned size
   * when it grew since (the scanned prefix is that version); a file whose scanned bytes changed
   * is still refused on the host.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aPushGivenTheScannedAttributesSendsTheScannedVersion(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind, null)) {
      Path touched = TestFiles.text(tmp.resolve("src/touched.txt"), 5000);
      FileTime scannedAt = FileTime.fromMillis(1_600_000_000_000L);
      ScannedAttributes touchedScan = new ScannedAttributes(5000, scannedAt, true);
      Files.setLastModifiedTime(touched, FileTime.fromMillis(1_700_000_000_000L)); // the touch after the scan
      Path grown = TestFiles.random(tmp.resolve("src/grown.bin"), 3 * 1024 * 1024, 8); // in frames, zero-copy on plaintext
      byte[] grownHash = sha256(grown);
      Files.write(grown, new byte[4096], java.nio.file.StandardOpenOption.APPEND); // the append after the scan
      Path edited = TestFiles.text(tmp.resolve("src/edited.txt"), 5000);
      byte[] editedHash = sha256(edited);
      Files.write(edited, "x".getBytes(java.nio.charset.StandardCharsets.UTF_8), java.nio.file.StandardOpenOption.WRITE);
      Path dir = f.root.resolve("scanned");
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> new PushItem(touched, dir.resolve("a").toString(), null, touchedScan, null, null))
          .hasMessageContaining("expected: with the scan's sha256, for the whole file");
      try (BulkSession s = f.client.open()) {
        List<TransferResult> r = s.pushStaged(List.of(
            new PushItem(touched, dir.resolve("a").toString(), null, touchedScan, null, sha256(touched)),
            new PushItem(grown, dir.resolve("b").toString(), null,
                new ScannedAttributes(3 * 1024 * 1024, scannedAt, false), null, grownHash),
            new PushItem(edited, dir.resolve("c").toString(), null,
                new ScannedAttributes(5000, scannedAt, false), null, editedHash)),
            TransferListener.NONE);
        assertThat(r.get(0).error()).isNull();
        assertThat(r.get(1).error()).isNull();
        assertThat(r.get(2).error()).contains("the source changed since");
      }
      Path a = dir.resolve(".a.tlpart");
      assertThat(Files.mismatch(touched, a)).isEqualTo(-1);
      assertThat(Files.getLastModifiedTime(a)).isEqualTo(scannedAt);
      assertThat(Files.isExecutable(a)).isTrue();
      Path b = dir.resolve(".b.tlpart");
      assertThat(Files.size(b)).isEqualTo(3 * 1024 * 1024);
      assertThat(sha256(b)).isEqualTo(grownHash);
      assertThat(dir.resolve(".c.tlpart")).doesNotExist();
    }
  }

  /**
   * Given the scanned hash, a zero-copy send does not read the file; one cut short while it is
   * sent still ends its own stream with a clear reason (the kernel's sendfile would come up
   * short, which fails the connection), and the session goes on with the next file.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aFileCutShortDuringAZeroCopySendGivenItsHashFailsAloneAndTheSessionGoesOn(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind, TransferMode.ZERO_COPY)) {
      Path big = TestFiles.random(tmp.resolve("src/big.bin"), 8 * 1024 * 1024, 7);
      byte[] scanned = sha256(big);
      Path next = TestFiles.text(tmp.resolve("src/next.txt"), 5000);
      java.util.concurrent.atomic.AtomicBoolean cut = new java.util.concurrent.atomic.AtomicBoolean();
      TransferListener cutting = new TransferListener() {
        @Override
        public void bytes(long n) {
          if (cut.compareAndSet(false, true)) {
            try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(big,
                java.nio.file.StandardOpenOption.WRITE)) {
              c.truncate(1024 * 1024); // after the first chunk went out
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }
        }
      };
      try (BulkSession s = f.client.open()) {
        List<TransferResult> r = s.pushStaged(
            List.of(new PushItem(big, "cut/big.bin", null, null, null, scanned)), cutting);
        assertThat(r.get(0).error()).contains("shrank");
        List<TransferResult> after = s.pushStaged(
            List.of(new PushItem(next, "cut/next.txt", null, null, null, sha256(next))), TransferListener.NONE);
        assertThat(after.get(0).error()).isNull();
      }
      assertThat(f.root.resolve("cut/.big.bin.tlpart")).doesNotExist();
      assertThat(Files.mismatch(next, f.root.resolve("cut/.next.txt.tlpart"))).isEqualTo(-1);
    }
  }

  private static byte[] sha256(Path file) throws Exception {
    return java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
  }

  /**
   * A push takes the attributes its caller already read (cp's walk) instead of reading them
   * again per step: a 20,000-file tree made five stats a file. They are what the file is sent
   * as and checked against afterwards, so attributes and executable bit arrive from them, and
   * a file changed since they were read is refused rather than sent under stale ones.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aPushSendsTheAttributesItIsHandedAndRefusesAFileChangedSinceTheyWereRead(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind, null)) {
      Path run = TestFiles.text(tmp.resolve("src/run.sh"), 5000);
      Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.setLastModifiedTime(run, FileTime.fromMillis(1_600_000_000_000L));
      Path edited = TestFiles.text(tmp.resolve("src/edited.txt"), 5000);
      java.nio.file.attribute.PosixFileAttributes runAttrs =
          Files.readAttributes(run, java.nio.file.attribute.PosixFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
      java.nio.file.attribute.PosixFileAttributes editedAttrs =
          Files.readAttributes(edited, java.nio.file.attribute.PosixFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
      Files.setLastModifiedTime(edited, FileTime.fromMillis(1_500_000_000_000L)); // changed after the walk
      try (BulkSession s = f.client.open()) {
        List<TransferResult> r = s.push(
            List.of(new PushItem(run, "a/run.sh", null, runAttrs), new PushItem(edited, "a/edited.txt", null, editedAttrs)),
            TransferListener.NONE);
        assertThat(r.get(0).error()).isNull();
        assertThat(r.get(1).error()).contains("changed while it was being sent");
      }
      assertThat(Files.mismatch(run, f.root.resolve("a/run.sh"))).isEqualTo(-1);
      assertThat(Files.isExecutable(f.root.resolve("a/run.sh"))).isTrue();
      assertThat(Files.getLastModifiedTime(f.root.resolve("a/run.sh")).toMillis()).isEqualTo(1_600_000_000_000L);
      assertThat(f.root.resolve("a/edited.txt")).doesNotExist();
    }
  }

  static Stream<Arguments> digestAgreements() {
    BulkConfig.DigestChoice auto = BulkConfig.DigestChoice.AUTO;
    BulkConfig.DigestChoice xxh3 = BulkConfig.DigestChoice.XXH3_128;
    BulkConfig.DigestChoice sha = BulkConfig.DigestChoice.SHA256;
    return Stream.of(
        Arguments.of(auto, auto, PathKind.LOOPBACK, "XXH3-128"),
        Arguments.of(auto, auto, PathKind.LAN, "SHA-256"),
        Arguments.of(sha, auto, PathKind.LOOPBACK, "SHA-256"),
        Arguments.of(auto, sha, PathKind.LOOPBACK, "SHA-256"),
        Arguments.of(xxh3, xxh3, PathKind.LAN, "XXH3-128"),
        Arguments.of(xxh3, auto, PathKind.LAN, "SHA-256"));
  }

  @ParameterizedTest(name = "host {0}, client {1}, {2}: {3}")
  @MethodSource("digestAgreements")
  void theSessionDigestIsSha256WhenEitherSideAsksForItAndVerifiesBothWays(
      BulkConfig.DigestChoice host, BulkConfig.DigestChoice client, PathKind path, String expected) throws Exception {
    TransportKind kind = transports().get(0);
    BulkConfig hostConfig = BulkFixture.config(tmp.resolve("root")).withDigest(host);
    try (BulkFixture f = new BulkFixture(tmp, kind, hostConfig, BulkConfig.defaults(List.of()).withDigest(client), path)) {
      Path big = TestFiles.random(tmp.resolve("src/big.bin"), 2 * 1024 * 1024 + 5, 3);
      Path text = TestFiles.text(tmp.resolve("src/small.txt"), 10_000);
      try (BulkSession s = f.client.open()) {
        assertThat(s.digestName()).isEqualTo(expected);
        List<TransferResult> r =
            s.push(
                List.of(
                    new PushItem(big, f.root.resolve("big.bin").toString(), null),
                    new PushItem(text, f.root.resolve("small.txt").toString(), null)),
                TransferListener.NONE);
        assertThat(r).allSatisfy(x -> assertThat(x.error()).isNull());
        Path back = tmp.resolve("back/big.bin");
        List<TransferResult> p =
            s.pull(List.of(new PullItem(f.root.resolve("big.bin").toString(), back, Files.size(big))), TransferListener.NONE);
        assertThat(p).singleElement().satisfies(x -> assertThat(x.error()).isNull());
        assertThat(Files.mismatch(big, back)).isEqualTo(-1);
      }
      assertThat(Files.mismatch(big, f.root.resolve("big.bin"))).isEqualTo(-1);
      assertThat(Files.mismatch(text, f.root.resolve("small.txt"))).isEqualTo(-1);
    }
  }

  /**
   * What the host's stat answers, each kind of path: a file with its size, mtime and
   * executable bit, a directory, a link to nothing (something, not a file), nothing, and a
   * partial file of an earlier transfer beside a file.
   */
  @org.junit.jupiter.api.Test
  void statDescribesFilesDirectoriesDanglingLinksNothingAndPartials() throws Exception {
    try (BulkFixture f = fixture(transports().get(0), null)) {
      Path root = f.root;
      Path tool = Files.writeString(Files.createDirectories(root.resolve("d")).resolve("tool"), "#!/bin/sh\n");
      Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.setLastModifiedTime(tool, FileTime.fromMillis(1_600_000_000_000L));
      Path text = Files.writeString(root.resolve("d/text.txt"), "hello");
      Files.createSymbolicLink(root.resolve("d/dangling"), root.resolve("d/nowhere"));
      Files.writeString(dev.thunderlink.transport.bulk.internal.BulkConnection.partialPath(text), "hel");
      try (BulkSession s = f.client.open()) {
        List<FileEntry> st = s.stat(List.of("d/tool", "d/text.txt", "d", "d/dangling", "d/absent"));
        assertThat(st.get(0)).satisfies(e -> {
          assertThat(e.getExists()).isTrue();
          assertThat(e.getSize()).isEqualTo(10);
          assertThat(e.getMtimeMillis()).isEqualTo(1_600_000_000_000L);
          assertThat(e.getExecutable()).isTrue();
          assertThat(e.getPartialBytes()).isZero();
        });
        assertThat(st.get(1)).satisfies(e -> {
          assertThat(e.getExists()).isTrue();
          assertThat(e.getExecutable()).isFalse();
          assertThat(e.getPartialBytes()).isEqualTo(3);
          assertThat(e.getPartialSha256().size()).isEqualTo(32);
        });
        assertThat(st.get(2)).satisfies(e -> assertThat(e.getExists() && e.getDirectory()).isTrue());
        assertThat(st.get(3)).satisfies(e -> {
          assertThat(e.getExists()).isTrue();
          assertThat(e.getDirectory()).isFalse();
          assertThat(e.getSize()).isZero();
        });
        assertThat(st.get(4).getExists()).isFalse();
        assertThat(st).extracting(FileEntry::getError).containsOnly("");
      }
    }
  }
}
