package dev.thunderlink.transport.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.proto.bulk.DigestAlgorithm;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The XXH3-128 on the wire stays the reference implementation's, however the bytes are fed. */
class HashingTest {
  /** 3 MiB + 13 bytes, byte i = i * 31 + 7: several XXH3 blocks and a ragged tail. */
  private static final byte[] DATA = new byte[3 * 1024 * 1024 + 13];
  /** {@code xxh128sum} (xxHash 0.8.1, the C reference) of {@link #DATA}. */
  private static final String REFERENCE = "2b2423ae1eb44fcec2d0167376549f53";

  static {
    for (int i = 0; i < DATA.length; i++) {
      DATA[i] = (byte) (i * 31 + 7);
    }
  }

  @Test
  void arraysGiveTheReferenceValue() {
    Hashing.Content c = Hashing.content(DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128);
    c.update(DATA, 0, DATA.length);
    assertThat(Hashing.hex(c.finish())).isEqualTo(REFERENCE);
  }

  @Test
  void directBuffersInRaggedPiecesGiveTheReferenceValue() {
    for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
      // the data sits at an odd offset of a larger direct buffer, fed in pieces of odd sizes
      ByteBuffer whole = ByteBuffer.allocateDirect(DATA.length + 7);
      whole.position(5);
      whole.put(DATA);
      Hashing.Content c = Hashing.content(DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128);
      int[] sizes = {1, 15, 16, 17, 63, 1000, 64 * 1024 + 3, 1024 * 1024};
      int at = 0;
      for (int i = 0; at < DATA.length; i++) {
        int n = Math.min(sizes[i % sizes.length], DATA.length - at);
        ByteBuffer piece = whole.duplicate().order(order);
        piece.limit(5 + at + n).position(5 + at);
        c.update(piece);
        assertThat(piece.hasRemaining()).isFalse();
        at += n;
      }
      assertThat(Hashing.hex(c.finish())).as(order.toString()).isEqualTo(REFERENCE);
    }
  }

  @Test
  void heapBuffersAtAnOffsetGiveTheReferenceValue() {
    byte[] backing = new byte[DATA.length + 9];
    System.arraycopy(DATA, 0, backing, 9, DATA.length);
    ByteBuffer b = ByteBuffer.wrap(backing, 4, backing.length - 4).slice();
    b.position(5);
    Hashing.Content c = Hashing.content(DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128);
    c.update(b);
    assertThat(b.hasRemaining()).isFalse();
    assertThat(Hashing.hex(c.finish())).isEqualTo(REFERENCE);
  }
}
