package dev.thunderlink.transport.bulk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.thunderlink.proto.bulk.FileEntry;
import dev.thunderlink.proto.bulk.MakeEntry;
import dev.thunderlink.proto.bulk.MakeResult;
import dev.thunderlink.proto.bulk.VerifyMessage;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.TransportKind;
import dev.thunderlink.transport.bulk.internal.BulkConnection;
import dev.thunderlink.transport.bulk.internal.Frame;
import dev.thunderlink.transport.bulk.internal.Hashing;
import dev.thunderlink.proto.bulk.DigestAlgorithm;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bad input the host must survive: each gives a one-line reason, leaves no file at
 * the destination name, and the host serves the next transfer. Over every transport.
 */
class BulkBadInputTest {
  @TempDir Path tmp;

  static List<TransportKind> transports() {
    return TransportFactory.availableKinds();
  }

  private BulkFixture fixture(TransportKind kind) throws Exception {
    return fixture(kind, BulkFixture.config(tmp.resolve("root")));
  }

  private BulkFixture fixture(TransportKind kind, BulkConfig host) throws Exception {
    return new BulkFixture(tmp, kind, host, BulkConfig.defaults(List.of()), PathKind.LOOPBACK);
  }

  /** The host still takes a normal file. */
  private static void stillServes(BulkFixture f) throws Exception {
    Path src = TestFiles.random(f.dir.resolve("src/after.bin"), 200_000, 9);
    try (BulkSession s = f.client.open()) {
      assertThat(s.push(List.of(new PushItem(src, "after.bin", null)), TransferListener.NONE))
          .singleElement().satisfies(r -> assertThat(r.error()).isNull());
    }
    assertThat(Files.mismatch(src, f.root.resolve("after.bin"))).isEqualTo(-1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void truncatedFrameLeavesNoFileAndTheHostKeepsServing(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      try (RawBulkPeer p = new RawBulkPeer(f)) {
        assertThat(p.hello()).isEqualTo(Frame.HELLO_OK);
        p.begin(1, "cut.bin", 1000);
        p.out.writeInt(1000);
        p.out.writeByte(Frame.DATA_RAW);
        p.out.writeInt(1);
        p.out.write(new byte[10]);
        p.out.flush();
      }
      stillServes(f);
      assertThat(f.root.resolve("cut.bin")).doesNotExist();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void oversizedFrameIsRefusedWithItsSize(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      try (RawBulkPeer p = new RawBulkPeer(f)) {
        assertThat(p.hello()).isEqualTo(Frame.HELLO_OK);
        p.out.writeInt(64 * 1024 * 1024);
        p.out.writeByte(Frame.DATA_LZ4);
        p.out.writeInt(1);
        p.out.write(new byte[100]);
        p.out.flush();
        assertError(p, "frame DATA_LZ4 of 67108864 bytes on stream 1 exceeds the maximum of 4194304 bytes");
        assertThat(p.closedByHost()).as("closed, though the peer does not hang up").isTrue();
      }
      stillServes(f);
    }
  }

  /**
   * A frame for a stream never begun is refused, and the connection ends. A client pushing a
   * file reads nothing while its event loop works through the queued writes, which Netty lets
   * run for up to a second: it goes on sending after the host's ERROR, and reads it late. The
   * host must read and drop meanwhile, not close: a close made the client's next
   * write fail with EPIPE, and it said "bulk connection lost: Broken pipe" instead of why (CI,
   * an unpair during a TLS push, when the host closed 500 ms after its ERROR).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void frameForAnUnknownStreamIsRefusedEvenToAPeerThatReadsWhyLate(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      try (RawBulkPeer p = new RawBulkPeer(f)) {
        assertThat(p.hello()).isEqualTo(Frame.HELLO_OK);
        p.frame(Frame.DATA_RAW, 7, new byte[] {1, 2, 3});
        byte[] more = new byte[64 * 1024];
        long until = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1500);
        long sent = 0;
        while (System.nanoTime() < until) {
          p.frame(Frame.DATA_RAW, 7, more); // a write failing here is the bug
          sent += more.length;
        }
        assertThat(sent).isPositive();
        assertError(p, "data for unknown stream 7");
        assertThat(p.hangUpAndSeeTheHostClose()).isTrue();
      }
      stillServes(f);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void filesBeforeHelloOrWithAWrongOrReusedTicketAreRefused(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      try (RawBulkPeer p = new RawBulkPeer(f)) {
        p.begin(1, "x", 1);
        RawBulkPeer.Received r = p.readFrame();
        assertThat(r.text()).isEqualTo("expected HELLO as the first frame, got BEGIN");
      }
      try (RawBulkPeer p = new RawBulkPeer(f)) {
        assertThat(p.hello(ByteString.copyFrom(new byte[32]))).isEqualTo(Frame.ERROR);
      }
      RawBulkPeer first = new RawBulkPeer(f);
      assertThat(first.hello()).isEqualTo(Frame.HELLO_OK);
      try (RawBulkPeer again = new RawBulkPeer(f)) {
        // a second connection presenting the first session's ticket
        again.frame(
            Frame.HELLO,
            0,
            dev.thunderlink.proto.bulk.Hello.newBuilder()
                .setSessionId(first.session.getSessionId())
                .setTicket(first.session.getTicket())
                .build()
                .toByteArray());
        RawBulkPeer.Received r = again.readFrame();
        assertThat(r.type()).isEqualTo(Frame.ERROR);
        assertThat(r.text()).isEqualTo("bulk connection refused: the ticket was used already or expired");
      }
      first.close();
      stillServes(f);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void plaintextIsRefusedWhenTheHostRequiresEncryption(TransportKind kind) throws Exception {
    BulkConfig host = BulkFixture.config(tmp.resolve("root")).withPlaintextOnThunderbolt(false);
    try (BulkFixture f = fixture(kind, host)) {
      try (RawBulkPeer p = new RawBulkPeer(f)) {
        assertError(p, "plaintext bulk connections are disabled on this host (bulk encryption is on)");
      }
      // the real client falls back to TLS when the host does not grant plaintext
      try (BulkSession s = f.client.open()) {
        assertThat(s.encrypted()).isTrue();
      }
      stillServes(f);
    }
  }

  /**
   * TLS resumes a session without asking the trust manager again; the host's certificate is
   * checked against the workstation's pins after every handshake, resumed or not, so a host
   * unpaired since the last connection is refused on the next one.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aHostUnpairedSinceTheLastTlsConnectionIsRefusedOnTheNext(TransportKind kind) throws Exception {
    try (BulkFixture f = new BulkFixture(tmp, kind, BulkFixture.config(tmp.resolve("root")),
        BulkConfig.defaults(List.of()), PathKind.LAN)) {
      stillServes(f);
      f.wsPeers.remove(f.host.deviceId());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> f.client.open().close())
          .isInstanceOf(BulkException.class)
          .hasMessageContaining("is not a paired peer")
          .satisfies(e -> assertThat(((BulkException) e).retryable()).isFalse());
      assertThat(f.bulkServer.counters().snapshot().payloadBytes().values().stream().mapToLong(Long::longValue).sum())
          .as("only the first file's bytes reached the host").isEqualTo(200_000);
    }
  }

  /**
   * {@code unpair} of the workstation on the host cuts its transfer in flight (plaintext, known
   * by its session; TLS, by its certificate) and its gRPC connection, with the reason; the
   * transfer does not go on to the end.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void unpairingTheWorkstationOnTheHostCutsItsTransferAndItsLinkAtOnce(TransportKind kind) throws Exception {
    for (PathKind path : List.of(PathKind.LOOPBACK, PathKind.LAN)) {
      Path dir = Files.createDirectories(tmp.resolve(path.cliName()));
      try (BulkFixture f = new BulkFixture(dir, kind, BulkFixture.config(dir.resolve("root")),
          BulkConfig.defaults(List.of()), path)) {
        Path src = TestFiles.random(dir.resolve("src/long.bin"), 64 * 1024 * 1024, 8);
        stillServes(f);
        assertThat(f.channel.getState(false)).isEqualTo(io.grpc.ConnectivityState.READY);
        AtomicBoolean unpaired = new AtomicBoolean();
        String error;
        try (BulkSession s = f.client.open()) {
          error = s.push(List.of(new PushItem(src, "long.bin", null)), new TransferListener() {
            @Override
            public void bytes(long n) {
              if (unpaired.compareAndSet(false, true)) {
                try {
                  f.hostPeers.remove(f.ws.deviceId());
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              }
            }
          }).get(0).error();
        } catch (BulkException e) {
          error = e.getMessage();
        }
        assertThat(error).as(path + " transfer").contains("this workstation was unpaired on the host");
        assertThat(f.root.resolve("long.bin")).doesNotExist();
        TestFiles.await(() -> f.channel.getState(false) != io.grpc.ConnectivityState.READY, Duration.ofSeconds(5),
            "the host closed the workstation's gRPC connection");
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aTicketIssuedBeforeAnUnpairOpensNothingAfterIt(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind); RawBulkPeer p = new RawBulkPeer(f)) {
      f.hostPeers.remove(f.ws.deviceId());
      p.frame(Frame.HELLO, 0, dev.thunderlink.proto.bulk.Hello.newBuilder().setSessionId(p.session.getSessionId())
          .setTicket(p.session.getTicket()).build().toByteArray());
      assertError(p, "bulk connection refused: this workstation is no longer paired with the host");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void hashMismatchInstallsNothing(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      try (RawBulkPeer p = new RawBulkPeer(f)) {
        assertThat(p.hello()).isEqualTo(Frame.HELLO_OK);
        byte[] data = "hello, bulk".getBytes();
        p.begin(1, "mismatch.txt", data.length);
        p.frame(Frame.DATA_RAW, 1, data);
        p.frame(Frame.END, 1, new byte[0]);
        p.digest(1, MessageDigest.getInstance("SHA-256").digest("something else".getBytes()), data.length);
        VerifyMessage v = p.nextVerdict();
        assertThat(v.getVerdict().getOk()).isFalse();
        assertThat(v.getVerdict().getError())
            .startsWith("content hash mismatch for " + f.root.resolve("mismatch.txt") + ": received ")
            .endsWith("; nothing was written");
      }
      assertThat(f.root.resolve("mismatch.txt")).doesNotExist();
      assertThat(BulkConnection.partialPath(f.root.resolve("mismatch.txt"))).doesNotExist();
      stillServes(f);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void xxh3MismatchInstallsNothing(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      try (RawBulkPeer p = new RawBulkPeer(f)) {
        assertThat(p.session.getDigest()).isEqualTo(DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128);
        assertThat(p.hello()).isEqualTo(Frame.HELLO_OK);
        byte[] data = "hello, bulk".getBytes();
        p.begin(1, "mismatch.txt", data.length, DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128);
        p.frame(Frame.DATA_RAW, 1, data);
        p.frame(Frame.END, 1, new byte[0]);
        Hashing.Content other = Hashing.content(DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128);
        byte[] wrong = "hello, bulK".getBytes();
        other.update(wrong, 0, wrong.length);
        p.digestXxh3(1, other.finish(), data.length);
        VerifyMessage v = p.nextVerdict();
        assertThat(v.getVerdict().getOk()).isFalse();
        assertThat(v.getVerdict().getError())
            .startsWith("content hash mismatch for " + f.root.resolve("mismatch.txt") + ": received ")
            .endsWith("(XXH3-128); nothing was written");
        // the right XXH3-128 of the same bytes installs the file
        byte[] good = "good bytes".getBytes();
        p.begin(2, "good.txt", good.length, DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128);
        p.frame(Frame.DATA_RAW, 2, good);
        p.frame(Frame.END, 2, new byte[0]);
        Hashing.Content right = Hashing.content(DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128);
        right.update(good, 0, good.length);
        p.digestXxh3(2, right.finish(), good.length);
        assertThat(p.nextVerdict().getVerdict().getOk()).isTrue();
      }
      assertThat(f.root.resolve("mismatch.txt")).doesNotExist();
      assertThat(BulkConnection.partialPath(f.root.resolve("mismatch.txt"))).doesNotExist();
      assertThat(f.root.resolve("good.txt")).hasContent("good bytes");
      stillServes(f);
    }
  }

  /** Plants a link at {@code dest}'s partial-file name to a new file outside the roots; returns that file. */
  private Path linkAtPartialFile(Path dest) throws IOException {
    Path outside = TestFiles.random(tmp.resolve("outside/" + dest.getFileName()), 100, 7);
    Files.createSymbolicLink(BulkConnection.partialPath(dest), outside);
    return outside;
  }

  /** A resume onto a link planted at the partial file's name is refused as gone, never read or written through. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aResumeOntoALinkAtThePartialFilesNameFailsRetryably(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      Path dest = f.root.resolve("resumed.txt");
      Path outside = linkAtPartialFile(dest);
      byte[] before = Files.readAllBytes(outside);
      try (RawBulkPeer p = new RawBulkPeer(f)) {
        assertThat(p.hello()).isEqualTo(Frame.HELLO_OK);
        p.frame(Frame.BEGIN, 1, dev.thunderlink.proto.bulk.FileHeader.newBuilder().setPath("resumed.txt")
            .setSize(100).setOffset(60).setEncoding(dev.thunderlink.proto.bulk.Encoding.ENCODING_RAW)
            .setMode(TransferMode.HEAP.wire()).build().toByteArray());
        VerifyMessage v = p.nextVerdict();
        assertThat(v.getVerdict().getOk()).isFalse();
        assertThat(v.getVerdict().getRetryable()).isTrue();
        assertThat(v.getVerdict().getError()).isEqualTo("cannot resume " + dest + " at byte 60: its partial file "
            + BulkConnection.partialPath(dest) + " is a symbolic link; send it again");
      }
      assertThat(Files.readAllBytes(outside)).isEqualTo(before);
      assertThat(dest).doesNotExist();
      stillServes(f);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aResumeWhoseKeptBytesAreGoneFailsRetryably(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      try (RawBulkPeer p = new RawBulkPeer(f)) {
        assertThat(p.hello()).isEqualTo(Frame.HELLO_OK);
        p.frame(
            Frame.BEGIN,
            1,
            dev.thunderlink.proto.bulk.FileHeader.newBuilder()
                .setPath("resumed.txt")
                .setSize(100)
                .setOffset(60)
                .setEncoding(dev.thunderlink.proto.bulk.Encoding.ENCODING_RAW)
                .setMode(TransferMode.HEAP.wire())
                .build()
                .toByteArray());
        VerifyMessage v = p.nextVerdict();
        assertThat(v.getVerdict().getOk()).isFalse();
        assertThat(v.getVerdict().getRetryable()).isTrue();
        assertThat(v.getVerdict().getError())
            .isEqualTo("cannot resume " + f.root.resolve("resumed.txt") + " at byte 60: only 0 bytes were kept; send it again");
      }
      assertThat(f.root.resolve("resumed.txt")).doesNotExist();
      assertThat(BulkConnection.partialPath(f.root.resolve("resumed.txt"))).doesNotExist();
      stillServes(f);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void xxh3IsRefusedWhenTheHostAsksForSha256(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind, BulkFixture.config(tmp.resolve("root")).withDigest(BulkConfig.DigestChoice.SHA256))) {
      try (RawBulkPeer p = new RawBulkPeer(f)) {
        assertThat(p.session.getDigest()).isEqualTo(DigestAlgorithm.DIGEST_ALGORITHM_SHA256);
        assertThat(p.hello()).isEqualTo(Frame.HELLO_OK);
        byte[] data = "weakly hashed".getBytes();
        p.begin(1, "weak.txt", data.length, DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128);
        p.frame(Frame.DATA_RAW, 1, data);
        p.frame(Frame.END, 1, new byte[0]);
        Hashing.Content c = Hashing.content(DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128);
        c.update(data, 0, data.length);
        p.digestXxh3(1, c.finish(), data.length);
        VerifyMessage v = p.nextVerdict();
        assertThat(v.getVerdict().getOk()).isFalse();
        assertThat(v.getVerdict().getError())
            .isEqualTo("refused weak.txt: the sender hashed it with XXH3-128, but this session verifies with SHA-256 (bulk.digest)");
      }
      assertThat(f.root.resolve("weak.txt")).doesNotExist();
      assertThat(BulkConnection.partialPath(f.root.resolve("weak.txt"))).doesNotExist();
      stillServes(f);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void pathsOutsideThePermittedRootsAreRefused(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      Path outside = Files.createDirectories(tmp.resolve("outside"));
      Files.createSymbolicLink(f.root.resolve("link"), outside);
      Path src = TestFiles.random(tmp.resolve("src/evil"), 1000, 4);
      try (BulkSession s = f.client.open()) {
        List<TransferResult> r =
            s.push(
                List.of(
                    new PushItem(src, outside.resolve("evil").toString(), null),
                    new PushItem(src, "../outside/evil2", null),
                    new PushItem(src, "link/evil3", null)),
                TransferListener.NONE);
        assertThat(r).extracting(TransferResult::error).allSatisfy(e ->
            assertThat(e).contains("is outside the permitted roots [" + f.root + "] of the host"));
        List<FileEntry> st = s.stat(List.of("/etc/passwd"));
        assertThat(st.get(0).getError()).isEqualTo("path /etc/passwd is outside the permitted roots [" + f.root + "] of the host");
      }
      try (Stream<Path> s = Files.list(outside)) {
        assertThat(s).isEmpty();
      }
      stillServes(f);
    }
  }

  /**
   * A push onto a link to a file outside the roots replaces the link with the file, as one to
   * nothing (or to a file inside) is replaced; the file outside is not touched. Refused before as
   * outside the roots, for which the host asked access(2) about every file it received.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aPushOntoALinkToAFileOutsideReplacesTheLink(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      Path outside = TestFiles.random(tmp.resolve("outside/kept"), 100, 9);
      byte[] before = Files.readAllBytes(outside);
      Path link = Files.createSymbolicLink(f.root.resolve("out"), outside);
      Path src = TestFiles.random(tmp.resolve("src/new"), 3000, 5);
      try (BulkSession s = f.client.open()) {
        assertThat(s.push(List.of(new PushItem(src, "out", null)), TransferListener.NONE))
            .singleElement().satisfies(r -> assertThat(r.error()).isNull());
      }
      assertThat(Files.isSymbolicLink(link)).isFalse();
      assertThat(Files.mismatch(src, link)).isEqualTo(-1);
      assertThat(Files.readAllBytes(outside)).isEqualTo(before);
      stillServes(f);
    }
  }

  /**
   * A link to nothing counts as nothing there: a push onto it replaces the link with the file
   * (renamed in, never written through the link), so its target outside the roots is not made.
   * Refused before as outside the roots: the host looked at every new file with an lstat that
   * threw for the missing path; it now asks access(2), which cannot tell a link to nothing.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aPushOntoALinkToNothingReplacesTheLink(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      Path outside = Files.createDirectories(tmp.resolve("outside"));
      Path link = Files.createSymbolicLink(f.root.resolve("dangling"), outside.resolve("made"));
      Path src = TestFiles.random(tmp.resolve("src/new"), 3000, 5);
      try (BulkSession s = f.client.open()) {
        assertThat(s.push(List.of(new PushItem(src, "dangling", null)), TransferListener.NONE))
            .singleElement().satisfies(r -> assertThat(r.error()).isNull());
      }
      assertThat(Files.isSymbolicLink(link)).isFalse();
      assertThat(Files.mismatch(src, link)).isEqualTo(-1);
      assertThat(outside.resolve("made")).doesNotExist();
    }
  }

  /**
   * A symbolic link planted at a file's partial-file name (".NAME.tlpart", which a resume
   * reuses) is never written through: the push replaces the link and nothing outside the
   * permitted roots changes.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aLinkPlantedAtThePartialFilesNameIsReplacedNotWrittenThrough(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      Path dest = f.root.resolve("target.bin");
      Path outside = linkAtPartialFile(dest);
      byte[] before = Files.readAllBytes(outside);
      Path src = TestFiles.random(tmp.resolve("src/target.bin"), 3000, 8);
      try (BulkSession s = f.client.open()) {
        assertThat(s.push(List.of(new PushItem(src, "target.bin", null)), TransferListener.NONE))
            .singleElement().satisfies(r -> assertThat(r.error()).isNull());
      }
      assertThat(Files.mismatch(src, dest)).isEqualTo(-1);
      assertThat(Files.readAllBytes(outside)).isEqualTo(before);
      assertThat(BulkConnection.partialPath(dest)).doesNotExist();
      stillServes(f);
    }
  }

  /**
   * A directory where the file should go refuses the file (a small one at its rename, a large one
   * before its bytes are sent), and stays as it was.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aPushOntoADirectoryIsRefused(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      Path d = Files.createDirectories(f.root.resolve("adir/inner"));
      Path src = TestFiles.random(tmp.resolve("src/file"), 3000, 6);
      try (BulkSession s = f.client.open()) {
        assertThat(s.push(List.of(new PushItem(src, "adir", null)), TransferListener.NONE))
            .singleElement().satisfies(r -> assertThat(r.error()).isEqualTo("cannot write " + d.getParent() + ": " + d.getParent() + " is a directory"));
      }
      assertThat(d).isDirectory();
      assertThat(BulkConnection.partialPath(d.getParent())).doesNotExist();
      stillServes(f);
    }
  }

  private static MakeEntry dir(String p) {
    return MakeEntry.newBuilder().setPath(p).build();
  }

  private static MakeEntry link(String p, String target) {
    return MakeEntry.newBuilder().setPath(p).setSymlinkTarget(target).build();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void directoriesAndLinksOutsideThePermittedRootsAreNotMade(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      Path outside = Files.createDirectories(tmp.resolve("outside"));
      Files.createSymbolicLink(f.root.resolve("esc"), outside);
      Files.createDirectories(f.root.resolve("x/y"));
      Files.createSymbolicLink(f.root.resolve("x/y/a"), Path.of("../.."));
      try (BulkSession s = f.client.open()) {
        List<MakeResult> r =
            s.make(
                List.of(
                    dir(outside.resolve("d1").toString()),
                    dir("../outside/d2"),
                    dir("esc/d3"),
                    link("l4", "../outside"),
                    link("x/y/l5", "a/../../.."),
                    link("x/y/a/l6", "../../.."), // inside as written, outside from where a really leads
                    link("l7", "/etc/passwd"),
                    dir("ok/empty"),
                    link("ok/l", "empty")));
        assertThat(r.subList(0, 3)).extracting(MakeResult::getError).allSatisfy(e ->
            assertThat(e).contains("is outside the permitted roots [" + f.root + "] of the host"));
        assertThat(r.get(3).getError())
            .isEqualTo("symbolic link " + f.root.resolve("l4") + " -> ../outside refused: its target leads outside the permitted roots [" + f.root + "] of the host");
        assertThat(r.get(4).getError()).contains("refused: its target climbs with '..' after a name");
        assertThat(r.get(5).getError())
            .isEqualTo("symbolic link " + f.root.resolve("x/y/a/l6") + " -> ../../.. refused: its target leads outside the permitted roots [" + f.root + "] of the host");
        assertThat(r.get(6).getError()).contains("refused: its target is absolute");
        assertThat(r.subList(7, 9)).extracting(MakeResult::getError).containsOnly("");
        assertThat(r.subList(7, 9)).extracting(MakeResult::getExisted).containsOnly(false);
        assertThat(s.make(List.of(dir("ok/empty"), link("ok/l", "empty"))))
            .extracting(MakeResult::getExisted).containsExactly(true, true);

        List<FileEntry> listed = s.list("ok");
        assertThat(listed).extracting(FileEntry::getPath).containsExactly("", "empty", "l");
        assertThat(listed.get(0).getDirectory()).isTrue();
        assertThat(listed.get(2).getSymlinkTarget()).isEqualTo("empty");
      }
      assertThat(Files.isDirectory(f.root.resolve("ok/empty"))).isTrue();
      assertThat(Files.readSymbolicLink(f.root.resolve("ok/l"))).isEqualTo(Path.of("empty"));
      for (String n : List.of("l4", "x/y/l5", "l6", "l7")) {
        assertThat(Files.exists(f.root.resolve(n), java.nio.file.LinkOption.NOFOLLOW_LINKS)).as(n).isFalse();
      }
      try (Stream<Path> s = Files.list(outside)) {
        assertThat(s).isEmpty();
      }
      stillServes(f);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void sourceChangingMidSendIsRejected(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      Path src = TestFiles.random(tmp.resolve("src/growing.bin"), 6 * 1024 * 1024, 5);
      AtomicBoolean touched = new AtomicBoolean();
      TransferListener appendOnce =
          new TransferListener() {
            @Override
            public void bytes(long n) {
              if (touched.compareAndSet(false, true)) {
                try {
                  Files.write(src, new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              }
            }
          };
      try (BulkSession s = f.client.open()) {
        List<TransferResult> r = s.push(List.of(new PushItem(src, "growing.bin", null)), appendOnce);
        assertThat(r.get(0).error())
            .isEqualTo("source " + src + " changed while it was being sent (size 6291456 -> 6291459); nothing was written, copy it again");
      }
      assertThat(f.root.resolve("growing.bin")).doesNotExist();
      TestFiles.await(() -> !Files.exists(BulkConnection.partialPath(f.root.resolve("growing.bin"))), Duration.ofSeconds(5), "temp removed");
      stillServes(f);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void fullDiskFailsTheFileCleanlyAndTheHostKeepsServing(TransportKind kind) throws Exception {
    Path small = Files.createDirectories(tmp.resolve("small"));
    assumeTrue(TmpfsMount.mount(small, "1m"), "needs root to mount a 1 MiB tmpfs");
    try {
      BulkConfig host = BulkConfig.defaults(List.of(tmp.resolve("root"), small));
      try (BulkFixture f = fixture(kind, host)) {
        // much bigger than the tmpfs: the host's error reaches the sender while it is still
        // sending, and must be what the result says (not the sender's own "cancelled")
        Path src = TestFiles.random(tmp.resolve("src/big.bin"), 32 * 1024 * 1024, 6);
        try (BulkSession s = f.client.open()) {
          List<TransferResult> r = s.push(List.of(new PushItem(src, small.resolve("big.bin").toString(), null)), TransferListener.NONE);
          assertThat(r.get(0).error()).isEqualTo("cannot write " + small.resolve("big.bin") + ": No space left on device");
        }
        assertThat(small.resolve("big.bin")).doesNotExist();
        TestFiles.await(() -> !Files.exists(BulkConnection.partialPath(small.resolve("big.bin"))), Duration.ofSeconds(5), "temp removed");
        Path little = TestFiles.text(tmp.resolve("src/little.txt"), 10_000);
        try (BulkSession s = f.client.open()) {
          assertThat(s.push(List.of(new PushItem(little, small.resolve("little.txt").toString(), null)), TransferListener.NONE))
              .singleElement().satisfies(r -> assertThat(r.error()).isNull());
        }
        assertThat(Files.mismatch(little, small.resolve("little.txt"))).isEqualTo(-1);
        stillServes(f);
      }
    } finally {
      TmpfsMount.unmount(small);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void peerVanishingMidTransferKeepsAPartialThatTheNextSessionResumes(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      Path src = TestFiles.random(tmp.resolve("src/model.bin"), 4 * 1024 * 1024, 7);
      int half = 2 * 1024 * 1024;
      Path dest = f.root.resolve("model.bin");
      try (RawBulkPeer p = new RawBulkPeer(f)) {
        assertThat(p.hello()).isEqualTo(Frame.HELLO_OK);
        sendHalf(p, src, half, dest);
      } // vanishes
      assertThat(dest).doesNotExist();
      resumeOnANewSession(f, src, half);
      assertThat(Files.mismatch(src, dest)).isEqualTo(-1);
      assertThat(f.bulkServer.counters().snapshot().resumedBytes()).isEqualTo(half);
    }
  }

  /** Begins {@code src} as model.bin on stream 1 and sends its first {@code half} bytes; returns once they are written. */
  private static void sendHalf(RawBulkPeer p, Path src, int half, Path dest) throws Exception {
    byte[] all = Files.readAllBytes(src);
    p.frame(
        Frame.BEGIN,
        1,
        dev.thunderlink.proto.bulk.FileHeader.newBuilder()
            .setPath("model.bin").setSize(all.length).setMtimeMillis(Files.getLastModifiedTime(src).toMillis())
            .setEncoding(dev.thunderlink.proto.bulk.Encoding.ENCODING_RAW).setMode(TransferMode.HEAP.wire())
            .build().toByteArray());
    p.frame(Frame.DATA_RAW, 1, java.util.Arrays.copyOf(all, half));
    TestFiles.await(() -> sizeOf(BulkConnection.partialPath(dest)) == half, Duration.ofSeconds(10), "half written");
  }

  /** Pushes {@code src} to model.bin on a new session, resuming from the {@code half} bytes the host kept. */
  private static void resumeOnANewSession(BulkFixture f, Path src, int half) throws Exception {
    try (BulkSession s = f.client.open()) {
      FileEntry e = s.stat(List.of("model.bin")).get(0);
      assertThat(e.getPartialBytes()).isEqualTo(half);
      List<TransferResult> r = s.push(List.of(new PushItem(src, "model.bin", e)), TransferListener.NONE);
      assertThat(r.get(0).error()).isNull();
      assertThat(r.get(0).sentBytes()).isEqualTo(Files.size(src) - half);
    }
  }

  /**
   * A cable pulled without a reset: the host's side of the old connection stays open, with bytes
   * it has not written yet, while the sender resumes the file on a new connection. Those late
   * bytes must not land in the resumed, installed file, nor begin the next file of the old batch
   * again (a partial file nobody would finish). Seen in CI as a partial left after a failover.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aStaleConnectionsLateBytesTouchNothingOnceANewConnectionResumedTheFile(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      Path src = TestFiles.random(tmp.resolve("src/model.bin"), 4 * 1024 * 1024, 7);
      int half = 2 * 1024 * 1024;
      Path dest = f.root.resolve("model.bin");
      boolean closed;
      try (RawBulkPeer old = new RawBulkPeer(f)) {
        assertThat(old.hello()).isEqualTo(Frame.HELLO_OK);
        sendHalf(old, src, half, dest);
        // the sender hears nothing more on it, fails over and resumes on a new connection
        resumeOnANewSession(f, src, half);
        // the old connection, if its peer still listens, hears why it ends
        RawBulkPeer.Received why = old.readFrame();
        assertThat(why.type()).isEqualTo(Frame.ERROR);
        assertThat(why.text()).isEqualTo("bulk connection superseded: a newer connection resumed " + dest);
        assertThat(Files.mismatch(src, dest)).isEqualTo(-1);
        // the old connection's backlog comes in late: the rest of the file (stale), then the next file
        try {
          old.frame(Frame.DATA_RAW, 1, new byte[half]);
          old.begin(3, "next.bin", 1000);
          old.frame(Frame.DATA_RAW, 3, new byte[500]);
        } catch (IOException e) {
          // the host closed it already
        }
        closed = old.hangUpAndSeeTheHostClose();
      }
      assertThat(Files.mismatch(src, dest)).as("the resumed file keeps its verified content").isEqualTo(-1);
      assertThat(BulkConnection.partialPath(dest)).doesNotExist();
      assertThat(BulkConnection.partialPath(f.root.resolve("next.bin"))).as("no file begun by the stale connection").doesNotExist();
      assertThat(f.root.resolve("next.bin")).doesNotExist();
      assertThat(closed).as("the host closed the superseded connection").isTrue();
      stillServes(f);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void cancelStopsThePushAndTheHostDeletesWhatItGot(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind)) {
      Path src = TestFiles.random(tmp.resolve("src/long.bin"), 16 * 1024 * 1024, 8);
      try (BulkSession s = f.client.open()) {
        TransferListener cancelEarly =
            new TransferListener() {
              @Override
              public void bytes(long n) {
                s.cancel();
              }
            };
        List<TransferResult> r = s.push(List.of(new PushItem(src, "long.bin", null)), cancelEarly);
        assertThat(r.get(0).error()).isEqualTo("cancelled");
        assertThat(r.get(0).retryable()).isFalse();
      }
      assertThat(f.root.resolve("long.bin")).doesNotExist();
      TestFiles.await(() -> !Files.exists(BulkConnection.partialPath(f.root.resolve("long.bin"))), Duration.ofSeconds(5), "temp removed");
      stillServes(f);
    }
  }

  private static long sizeOf(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return -1;
    }
  }

  /** The next frame from the host is an ERROR for the whole connection saying {@code text}. */
  private static void assertError(RawBulkPeer p, String text) throws java.io.IOException {
    RawBulkPeer.Received r = p.readFrame();
    assertThat(r.type()).isEqualTo(Frame.ERROR);
    assertThat(r.stream()).isZero();
    assertThat(r.text()).isEqualTo(text);
  }
}
