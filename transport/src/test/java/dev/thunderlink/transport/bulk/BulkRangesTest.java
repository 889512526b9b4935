package dev.thunderlink.transport.bulk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.proto.bulk.GetRequest;
import dev.thunderlink.proto.bulk.Range;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.TransportKind;
import dev.thunderlink.transport.bulk.internal.Frame;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Pushes and pulls of some ranges of a file (a delta's changed blocks), over every transport that loads here. */
class BulkRangesTest {
  private static final int SIZE = 3 * 1024 * 1024 + 17;
  /** A small range, one that spans several chunks and LZ4 blocks, the file's last bytes. */
  private static final List<FileRange> RANGES =
      List.of(new FileRange(100, 5000), new FileRange(1 << 20, (2 << 20) + 3), new FileRange(SIZE - 17, 17));

  @TempDir Path tmp;

  static Stream<Arguments> transportsAndModes() {
    List<Arguments> out = new ArrayList<>();
    for (TransportKind k : TransportFactory.availableKinds()) {
      for (TransferMode m : TransferMode.values()) {
        out.add(Arguments.of(k, m));
      }
    }
    return out.stream();
  }

  static List<TransportKind> transports() {
    return TransportFactory.availableKinds();
  }

  private BulkFixture fixture(TransportKind kind, TransferMode mode) throws Exception {
    return BulkFixture.forMode(tmp, kind, mode);
  }

  private static byte[] cut(Path file, List<FileRange> ranges) throws Exception {
    byte[] all = Files.readAllBytes(file);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (FileRange r : ranges) {
      out.write(Arrays.copyOfRange(all, (int) r.offset(), (int) (r.offset() + r.length())));
    }
    return out.toByteArray();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("transportsAndModes")
  void onlyTheRangesTravelBackToBackBothWaysVerified(TransportKind kind, TransferMode mode) throws Exception {
    try (BulkFixture f = fixture(kind, mode)) {
      Path src = mode == TransferMode.LZ4
          ? TestFiles.text(tmp.resolve("src/big.txt"), SIZE) : TestFiles.random(tmp.resolve("src/big.bin"), SIZE, 7);
      byte[] want = cut(src, RANGES);
      long total = FileRange.total(RANGES);
      Path pushed = f.root.resolve("dir/.patch");
      // a copy of the whole source at the destination (size and mtime alike) is no reason to skip
      Files.createDirectories(pushed.getParent());
      Files.copy(src, pushed);
      Files.setLastModifiedTime(pushed, Files.getLastModifiedTime(src));
      try (BulkSession s = f.client.open()) {
        List<TransferResult> r = s.push(List.of(new PushItem(src, pushed.toString(), s.stat(List.of(pushed.toString())).get(0),
            null, RANGES)), TransferListener.NONE);
        assertThat(r).singleElement().satisfies(x -> {
          assertThat(x.error()).isNull();
          assertThat(x.skipped()).isFalse();
          assertThat(x.sentBytes()).isEqualTo(total);
        });
      }
      assertThat(Files.readAllBytes(pushed)).isEqualTo(want);
      assertThat(f.bulkServer.counters().snapshot().payloadBytes().get(mode)).isEqualTo(total);

      Path hostFile = f.root.resolve("dir/big");
      Files.copy(src, hostFile);
      Path pulled = tmp.resolve("back/.patch");
      try (BulkSession s = f.client.open()) {
        List<TransferResult> r = s.pull(List.of(new PullItem(hostFile.toString(), pulled, total, RANGES)), TransferListener.NONE);
        assertThat(r).singleElement().satisfies(x -> {
          assertThat(x.error()).isNull();
          assertThat(x.sentBytes()).isEqualTo(total);
        });
      }
      assertThat(Files.readAllBytes(pulled)).isEqualTo(want);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aRangeBeyondTheEndFailsThatFileOnlyAndLeavesNothing(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind, null)) {
      Path src = TestFiles.random(tmp.resolve("src/small.bin"), 10_000, 3);
      Path hostFile = Files.copy(src, Files.createDirectories(f.root.resolve("dir")).resolve("small"));
      List<FileRange> beyond = List.of(new FileRange(0, 100), new FileRange(9_950, 100));
      Path pushed = f.root.resolve("dir/.pushed");
      Path pulled = tmp.resolve("back/.pulled");
      Path good = tmp.resolve("back/.good");
      try (BulkSession s = f.client.open()) {
        List<TransferResult> r = s.push(List.of(new PushItem(src, pushed.toString(), null, null, beyond),
            new PushItem(src, f.root.resolve("dir/.ok").toString(), null, null, RANGES.subList(0, 1))), TransferListener.NONE);
        assertThat(r.get(0).error()).isEqualTo("cannot send bytes 9950-10050 of " + src + ": it has 10000");
        assertThat(r.get(0).retryable()).isFalse();
        assertThat(r.get(1).error()).isNull();
        List<TransferResult> p = s.pull(List.of(new PullItem(hostFile.toString(), pulled, 200, beyond),
            new PullItem(hostFile.toString(), good, 5000, RANGES.subList(0, 1))), TransferListener.NONE);
        assertThat(p.get(0).error()).contains("cannot send bytes 9950-10050 of " + hostFile + ": it has 10000");
        assertThat(p.get(1).error()).isNull();
      }
      assertThat(pushed).doesNotExist();
      assertThat(pulled).doesNotExist();
      assertThat(Files.readAllBytes(f.root.resolve("dir/.ok"))).isEqualTo(cut(src, RANGES.subList(0, 1)));
      assertThat(Files.readAllBytes(good)).isEqualTo(cut(src, RANGES.subList(0, 1)));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aGetWithBadRangesIsRefusedWithOneLineAndTheConnectionGoesOn(TransportKind kind) throws Exception {
    try (BulkFixture f = fixture(kind, null)) {
      Path hostFile = TestFiles.random(f.root.resolve("dir/small"), 10_000, 3);
      String path = hostFile.toString();
      try (RawBulkPeer peer = new RawBulkPeer(f)) {
        assertThat(peer.hello()).isEqualTo(Frame.HELLO_OK);
        peer.frame(Frame.GET, 1, GetRequest.newBuilder().setPath(path).setOffset(10)
            .addRanges(Range.newBuilder().setOffset(0).setLength(100)).build().toByteArray());
        assertThat(peer.readFrame()).isEqualTo(new RawBulkPeer.Received(Frame.ERROR, 1,
            "GET " + path + ": ranges and an offset (expected: one or the other)"));
        peer.frame(Frame.GET, 2, GetRequest.newBuilder().setPath(path)
            .addRanges(Range.newBuilder().setOffset(5).setLength(0)).build().toByteArray());
        assertThat(peer.readFrame()).isEqualTo(new RawBulkPeer.Received(Frame.ERROR, 2,
            "GET " + path + ": file range: 5+0 (expected: offset >= 0, length > 0)"));
        peer.frame(Frame.GET, 3, GetRequest.newBuilder().setPath(path)
            .addRanges(Range.newBuilder().setOffset(9_990).setLength(10)).build().toByteArray());
        RawBulkPeer.Received begin = peer.readFrame();
        assertThat(begin.type()).as("a good GET after them is served").isEqualTo(Frame.BEGIN);
        assertThat(begin.stream()).isEqualTo(3);
      }
    }
  }
}
