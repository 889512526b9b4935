package dev.thunderlink.transport.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.security.MessageDigest;
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
      FileReceiver r = new FileReceiver(i + 1, h, dest, counters, scratch);
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

  private static ByteBuf lz4Block(byte[] raw) {
    byte[] out = new byte[LZ4.maxCompressedLength(raw.length)];
    int c = LZ4.compress(raw, 0, raw.length, out, 0, out.length);
    assertThat(c).isLessThan(raw.length);
    return Unpooled.buffer().writeInt(raw.length).writeByte(1).writeBytes(out, 0, c);
  }
}
