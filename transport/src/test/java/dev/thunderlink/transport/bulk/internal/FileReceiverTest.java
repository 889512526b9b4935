package dev.thunderlink.transport.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.proto.bulk.DigestAlgorithm;
import dev.thunderlink.proto.bulk.FileHeader;
import dev.thunderlink.proto.bulk.Verdict;
import dev.thunderlink.transport.bulk.BulkCounters;
import dev.thunderlink.transport.bulk.TransferMode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link FileReceiver} on real files, fed the frames a sender writes. */
class FileReceiverTest {
  @TempDir Path dir;

  private static final LZ4Compressor LZ4 = LZ4Factory.fastestInstance().fastCompressor();

  /**
   * Every file of a connection decompresses into the connection's one buffer: a buffer per
   * file allocated 1.3 GB for a tree of 20,000 small files.
   */
  @Test
  void manyLz4FilesOfAConnectionShareOneDecompressionBuffer() throws Exception {
    FileReceiver.Scratch scratch = new FileReceiver.Scratch();
    BulkCounters counters = new BulkCounters();
    for (int i = 0; i < 50; i++) {
      byte[] content = ("file " + i + " says hello. ").repeat(200 + i).getBytes(StandardCharsets.UTF_8);
      Path dest = dir.resolve("tree/f" + i + ".txt");
      FileHeader h = FileHeader.newBuilder()
          .setPath(dest.toString())
          .setSize(content.length)
          .setMtimeMillis(1_600_000_000_000L)
          .setMode(TransferMode.LZ4.wire())
          .setDigest(DigestAlgorithm.DIGEST_ALGORITHM_SHA256)
          .build();
      FileReceiver r = new FileReceiver(i + 1, h, dest, true, counters, scratch);
      r.open();
      ByteBuf frame = lz4Block(content);
      try {
        r.data(Frame.DATA_LZ4, frame);
      } finally {
        frame.release();
      }
      r.end();
      r.digest(dev.thunderlink.proto.bulk.Digest.newBuilder()
          .setSize(content.length)
          .setSha256(com.google.protobuf.ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(content)))
          .build());
      Verdict v = r.finish();
      assertThat(v.getError()).isEmpty();
      assertThat(Files.readAllBytes(dest)).isEqualTo(content);
    }
    assertThat(scratch.allocations()).as("decompression buffers allocated for 50 files").isEqualTo(1);
  }

  /**
   * A new temporary file is created with its final mode (no stat and chmod at install): the
   * installed file has the same permissions as the stat-and-chmod path gave, i.e. a new file's
   * (the umask applied) plus execute wherever read is allowed when the sender's file was
   * executable, and the sender's mtime.
   */
  @Test
  void freshTemporaryFileGetsTheExecBitAndMtimeAsBefore() throws Exception {
    Path probe = Files.createFile(dir.resolve("probe"));
    Set<PosixFilePermission> created = Files.getPosixFilePermissions(probe);
    for (boolean exec : new boolean[] {true, false}) {
      Path dest = dir.resolve("fresh/" + exec + ".sh");
      receive(dest, "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8), exec);
      assertThat(Files.getPosixFilePermissions(dest)).as("exec " + exec).isEqualTo(withExec(created, exec));
      assertThat(Files.getLastModifiedTime(dest).toMillis()).isEqualTo(1_600_000_000_000L);
      assertThat(FileReceiver.partialPath(dest)).doesNotExist();
    }
  }

  /** A temporary file left by an earlier transfer is reused: truncated, and its mode fixed. */
  @Test
  void leftoverTemporaryFileIsTruncatedAndGetsTheExecBitAndMtime() throws Exception {
    Path dest = dir.resolve("left/tool");
    Files.createDirectories(dest.getParent());
    Path temp = FileReceiver.partialPath(dest);
    Files.write(temp, new byte[10_000]);
    Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
    byte[] content = "short".getBytes(StandardCharsets.UTF_8);
    receive(dest, content, true);
    assertThat(Files.readAllBytes(dest)).isEqualTo(content);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dest))).isEqualTo("rwx------");
    assertThat(Files.getLastModifiedTime(dest).toMillis()).isEqualTo(1_600_000_000_000L);
    assertThat(temp).doesNotExist();
  }

  /**
   * Nobody looked whether something is at a small file's name (the host's check of it cost an
   * access(2) a file): a directory there fails the rename, with the message of looking first,
   * and nothing is left behind.
   */
  @Test
  void aSmallFileOntoADirectoryNobodyLookedForFailsAtItsRename() throws Exception {
    Path dest = Files.createDirectories(dir.resolve("small/name/inner")).getParent();
    Verdict v = receive(dest, new byte[] {1, 2, 3}, false, false);
    assertThat(v.getOk()).isFalse();
    assertThat(v.getError()).isEqualTo("cannot write " + dest + ": " + dest + " is a directory");
    assertThat(dest.resolve("inner")).isDirectory();
    assertThat(FileReceiver.partialPath(dest)).doesNotExist();
  }

  /** A large file looks for a directory in the way before its bytes come, even when nobody else did. */
  @Test
  void aLargeFileOntoADirectoryIsRefusedBeforeItsBytes() throws Exception {
    Path dest = Files.createDirectories(dir.resolve("large/name"));
    FileHeader h = header(dest, FileReceiver.LOOK_FIRST_BYTES, false);
    FileReceiver r = new FileReceiver(1, h, dest, false, new BulkCounters(), new FileReceiver.Scratch());
    assertThatThrownBy(r::open).isInstanceOf(java.io.IOException.class).hasMessage(dest + " is a directory");
    assertThat(FileReceiver.partialPath(dest)).doesNotExist();
  }

  private void receive(Path dest, byte[] content, boolean exec) throws Exception {
    assertThat(receive(dest, content, exec, true).getError()).isEmpty();
  }

  /**
   * Two transfers of one file on two connections (the older cut silently, the newer resuming it):
   * whichever begins first, only the newer writes the partial file, and the older neither writes
   * into it nor deletes it when it fails.
   */
  @Test
  void onlyTheTransferOnTheNewerConnectionWritesAPartialFile() throws Exception {
    Path dest = dir.resolve("shared.bin");
    Path partial = FileReceiver.partialPath(dest);
    List<String> superseded = new java.util.concurrent.CopyOnWriteArrayList<>();
    PartialWriters.Connection older = connection(superseded);
    PartialWriters.Connection newer = connection(superseded);
    FileHeader h = header(dest, 8, false);
    // the older began first: the newer fences it and supersedes its connection
    FileReceiver stale = new FileReceiver(1, h, dest, false, new BulkCounters(), new FileReceiver.Scratch(), null, older);
    stale.open();
    feed(stale, "old!");
    FileReceiver fresh = new FileReceiver(1, h, dest, false, new BulkCounters(), new FileReceiver.Scratch(), null, newer);
    fresh.open();
    assertThat(superseded).containsExactly("a newer connection resumed " + dest);
    feed(stale, "late"); // dropped
    feed(fresh, "new!");
    assertThat(stale.fail("lost").getOk()).isFalse();
    assertThat(partial).as("the fenced one deletes nothing").hasContent("new!");
    feed(fresh, "ok??");
    fresh.end();
    fresh.digest(digestOf("new!ok??"));
    assertThat(fresh.finish().getOk()).isTrue();
    assertThat(dest).hasContent("new!ok??");
    assertThat(partial).doesNotExist();

    // the older one's BEGIN comes after the newer began: refused, the newer's file untouched
    Path other = dir.resolve("other.bin");
    FileHeader o = header(other, 8, false);
    FileReceiver first = new FileReceiver(2, o, other, false, new BulkCounters(), new FileReceiver.Scratch(), null, newer);
    first.open();
    feed(first, "mine");
    FileReceiver late = new FileReceiver(2, o, other, false, new BulkCounters(), new FileReceiver.Scratch(), null, older);
    assertThatThrownBy(late::open).hasMessage("a transfer on a newer connection is writing it; this connection was superseded");
    late.fail("refused");
    assertThat(FileReceiver.partialPath(other)).hasContent("mine");
    first.abandon();

    // the older one's BEGIN comes after the newer one finished the file (its backlog was late)
    superseded.clear();
    FileReceiver again = new FileReceiver(3, h, dest, true, new BulkCounters(), new FileReceiver.Scratch(), null, older);
    assertThatThrownBy(again::open).hasMessage("a transfer on a newer connection is writing it; this connection was superseded");
    again.fail("refused");
    assertThat(partial).as("no partial file begun that nobody would finish").doesNotExist();
    assertThat(dest).hasContent("new!ok??");
    assertThat(superseded).containsExactly("a newer connection wrote " + dest);
    assertThat(PartialWriters.ALL.writing(partial)).as("a finished transfer let its partial file go").isFalse();
    assertThat(PartialWriters.ALL.writing(FileReceiver.partialPath(other))).as("so did an abandoned one").isFalse();
  }

  private static PartialWriters.Connection connection(List<String> superseded) {
    long serial = PartialWriters.nextSerial();
    return new PartialWriters.Connection() {
      @Override
      public long serial() {
        return serial;
      }

      @Override
      public void superseded(String reason) {
        superseded.add(reason);
      }
    };
  }

  private static void feed(FileReceiver r, String text) throws Exception {
    ByteBuf b = Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.US_ASCII));
    try {
      r.data(Frame.DATA_RAW, b);
    } finally {
      b.release();
    }
  }

  private static dev.thunderlink.proto.bulk.Digest digestOf(String text) throws Exception {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    return dev.thunderlink.proto.bulk.Digest.newBuilder().setSize(bytes.length)
        .setSha256(com.google.protobuf.ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(bytes))).build();
  }

  private static FileHeader header(Path dest, long size, boolean exec) {
    return FileHeader.newBuilder()
        .setPath(dest.toString())
        .setSize(size)
        .setMtimeMillis(1_600_000_000_000L)
        .setExecutable(exec)
        .setMode(TransferMode.HEAP.wire())
        .setDigest(DigestAlgorithm.DIGEST_ALGORITHM_SHA256)
        .build();
  }

  private static Verdict receive(Path dest, byte[] content, boolean exec, boolean destMayExist) throws Exception {
    FileHeader h = header(dest, content.length, exec);
    FileReceiver r = new FileReceiver(1, h, dest, destMayExist, new BulkCounters(), new FileReceiver.Scratch());
    return receiveWhole(r, content, dev.thunderlink.proto.bulk.Digest.newBuilder()
        .setSize(content.length)
        .setSha256(com.google.protobuf.ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(content)))
        .build());
  }

  /** Runs {@code r} over {@code content} in one raw frame, then the sender's {@code digest}; its verdict. */
  private static Verdict receiveWhole(FileReceiver r, byte[] content, dev.thunderlink.proto.bulk.Digest digest)
      throws Exception {
    r.open();
    ByteBuf frame = Unpooled.wrappedBuffer(content);
    try {
      r.data(Frame.DATA_RAW, frame);
    } finally {
      frame.release();
    }
    r.end();
    r.digest(digest);
    return r.finish();
  }

  /** What a {@link dev.thunderlink.transport.bulk.StagedFileListener} was told. */
  private record Told(Path partial, long size, long mtimeMillis, byte[] sha256) {}

  /** The digest a sender sends for {@code content} under {@code a}. */
  private static dev.thunderlink.proto.bulk.Digest digestOf(byte[] content, DigestAlgorithm a) {
    Hashing.Content c = Hashing.content(a);
    c.update(content, 0, content.length);
    return c.into(dev.thunderlink.proto.bulk.Digest.newBuilder().setSize(content.length)).build();
  }

  /**
   * Receives {@code content} from byte {@code offset} (the partial file holds the bytes before
   * it) in frames of {@code type} ({@code DATA_RAW} from a direct buffer, in two frames, or one
   * LZ4 block), staged or not, hashed by the sender with {@code a}; returns what the listener
   * was told (null: nothing).
   */
  private Told receiveStaged(Path dest, byte[] content, long offset, DigestAlgorithm a, byte type, boolean stage,
      dev.thunderlink.proto.bulk.Digest digest) throws Exception {
    FileHeader h = header(dest, content.length, false).toBuilder().setDigest(a).setStage(stage).setOffset(offset)
        .setMode(type == Frame.DATA_RAW ? TransferMode.HEAP.wire() : TransferMode.LZ4.wire()).build();
    java.util.List<Told> told = new java.util.ArrayList<>();
    FileReceiver r = new FileReceiver(1, h, dest, false, new BulkCounters(), new FileReceiver.Scratch(),
        (p, size, mtime, sha) -> told.add(new Told(p, size, mtime, sha)));
    r.open();
    byte[] rest = java.util.Arrays.copyOfRange(content, (int) offset, content.length);
    List<ByteBuf> frames = new java.util.ArrayList<>();
    if (type == Frame.DATA_RAW) {
      int half = rest.length / 2;
      frames.add(Unpooled.directBuffer(half).writeBytes(rest, 0, half));
      frames.add(Unpooled.directBuffer(rest.length - half).writeBytes(rest, half, rest.length - half));
    } else {
      frames.add(lz4Block(rest));
    }
    for (ByteBuf f : frames) {
      try {
        r.data(type, f);
      } finally {
        f.release();
      }
    }
    r.end();
    r.digest(digest);
    Verdict v = r.finish();
    assertThat(told).hasSizeLessThanOrEqualTo(1);
    if (!told.isEmpty()) {
      assertThat(v.getError()).as("told only of a verified file").isEmpty();
    }
    return told.isEmpty() ? null : told.get(0);
  }

  /**
   * A staged push is told to the listener with the SHA-256 of what was written, whichever digest
   * the session verifies with (under XXH3-128 a SHA-256 runs beside it), for raw and LZ4
   * frames; the copy stays at its partial name with the sender's mtime.
   */
  @Test
  void aStagedPushIsToldWithTheSha256OfWhatWasWrittenWhateverTheSessionDigest() throws Exception {
    byte[] content = "staged content, hashed as it is written. ".repeat(300).getBytes(StandardCharsets.UTF_8);
    byte[] sha = MessageDigest.getInstance("SHA-256").digest(content);
    int k = 0;
    for (DigestAlgorithm a : List.of(DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128, DigestAlgorithm.DIGEST_ALGORITHM_SHA256)) {
      for (byte type : new byte[] {Frame.DATA_RAW, Frame.DATA_LZ4}) {
        Path dest = dir.resolve("staged/" + (k++) + ".txt");
        Told t = receiveStaged(dest, content, 0, a, type, true, digestOf(content, a));
        assertThat(t).as(a + ", frame " + type).isNotNull();
        assertThat(t.partial()).isEqualTo(FileReceiver.partialPath(dest));
        assertThat(t.size()).isEqualTo(content.length);
        assertThat(t.mtimeMillis()).isEqualTo(1_600_000_000_000L);
        assertThat(t.sha256()).as(a + ", frame " + type).isEqualTo(sha);
        assertThat(Files.readAllBytes(t.partial())).isEqualTo(content);
        assertThat(Files.getLastModifiedTime(t.partial()).toMillis()).isEqualTo(1_600_000_000_000L);
        assertThat(dest).doesNotExist();
      }
    }
  }

  /**
   * Nothing is told for a file not staged, one that fails verification, or one resumed under
   * XXH3-128 (its kept bytes went only into the session's digest); a resume under SHA-256 is
   * told with the hash of the whole file. A listener that throws does not fail the transfer.
   */
  @Test
  void onlyAVerifiedStagedFileWhoseWholeSha256IsKnownIsTold() throws Exception {
    byte[] content = "0123456789abcdef".repeat(512).getBytes(StandardCharsets.UTF_8);
    DigestAlgorithm xxh3 = DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128;
    DigestAlgorithm sha256 = DigestAlgorithm.DIGEST_ALGORITHM_SHA256;
    assertThat(receiveStaged(dir.resolve("plain/a"), content, 0, xxh3, Frame.DATA_RAW, false, digestOf(content, xxh3)))
        .isNull();
    assertThat(dir.resolve("plain/a")).hasBinaryContent(content);
    byte[] other = content.clone();
    other[7] ^= 1;
    assertThat(receiveStaged(dir.resolve("bad/a"), content, 0, xxh3, Frame.DATA_RAW, true, digestOf(other, xxh3)))
        .isNull();
    for (DigestAlgorithm a : List.of(xxh3, sha256)) {
      Path dest = dir.resolve("resumed/" + a);
      Files.createDirectories(dest.getParent());
      Files.write(FileReceiver.partialPath(dest), java.util.Arrays.copyOf(content, 1000));
      Told t = receiveStaged(dest, content, 1000, a, Frame.DATA_RAW, true, digestOf(content, a));
      if (a == xxh3) {
        assertThat(t).isNull();
      } else {
        assertThat(t.sha256()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(content));
      }
      assertThat(FileReceiver.partialPath(dest)).hasBinaryContent(content);
    }
    Path dest = dir.resolve("throws/a");
    FileHeader h = header(dest, content.length, false).toBuilder().setStage(true).build();
    FileReceiver r = new FileReceiver(1, h, dest, false, new BulkCounters(), new FileReceiver.Scratch(),
        (p, size, mtime, sha) -> {
          throw new IllegalStateException("listener broke");
        });
    assertThat(receiveWhole(r, content, digestOf(content, sha256)).getOk()).isTrue();
    assertThat(FileReceiver.partialPath(dest)).hasBinaryContent(content);
  }

  /**
   * A staged file larger than the listener has a use for is neither hashed a second time nor
   * told: the mirror hashes such a copy again anyway, for its block fingerprints.
   */
  @Test
  void aStagedFileLargerThanTheListenerUsesIsNotHashedTwiceNorTold() throws Exception {
    byte[] content = "0123456789abcdef".repeat(512).getBytes(StandardCharsets.UTF_8); // 8 KiB
    Path dest = dir.resolve("large/a");
    FileHeader h = header(dest, content.length, false).toBuilder().setStage(true)
        .setDigest(DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128).build();
    java.util.List<Path> told = new java.util.ArrayList<>();
    dev.thunderlink.transport.bulk.StagedFileListener upTo4k = new dev.thunderlink.transport.bulk.StagedFileListener() {
      @Override
      public void verified(Path partial, long size, long mtimeMillis, byte[] sha256) {
        told.add(partial);
      }

      @Override
      public long largestUseful() {
        return 4096;
      }
    };
    FileReceiver r = new FileReceiver(1, h, dest, false, new BulkCounters(), new FileReceiver.Scratch(), upTo4k);
    assertThat(receiveWhole(r, content, digestOf(content, DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128)).getOk()).isTrue();
    assertThat(told).isEmpty();
    assertThat(FileReceiver.partialPath(dest)).hasBinaryContent(content);
    // the same file under the limit is told
    Path small = dir.resolve("large/b");
    r = new FileReceiver(1, header(small, content.length, false).toBuilder().setStage(true)
        .setDigest(DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128).build(), small, false, new BulkCounters(),
        new FileReceiver.Scratch(), (p, size, mtime, sha) -> told.add(p));
    assertThat(receiveWhole(r, content, digestOf(content, DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128)).getOk()).isTrue();
    assertThat(told).containsExactly(FileReceiver.partialPath(small));
  }

  /** What the stat-and-chmod install makes of a file created with {@code perms}. */
  private static Set<PosixFilePermission> withExec(Set<PosixFilePermission> perms, boolean exec) {
    Set<PosixFilePermission> p = EnumSet.copyOf(perms);
    p.removeAll(List.of(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE));
    if (exec) {
      p.add(PosixFilePermission.OWNER_EXECUTE);
      if (p.contains(PosixFilePermission.GROUP_READ)) {
        p.add(PosixFilePermission.GROUP_EXECUTE);
      }
      if (p.contains(PosixFilePermission.OTHERS_READ)) {
        p.add(PosixFilePermission.OTHERS_EXECUTE);
      }
    }
    return p;
  }

  private static ByteBuf lz4Block(byte[] raw) {
    byte[] out = new byte[LZ4.maxCompressedLength(raw.length)];
    int c = LZ4.compress(raw, 0, raw.length, out, 0, out.length);
    assertThat(c).isLessThan(raw.length);
    return Unpooled.buffer().writeInt(raw.length).writeByte(1).writeBytes(out, 0, c);
  }
}
