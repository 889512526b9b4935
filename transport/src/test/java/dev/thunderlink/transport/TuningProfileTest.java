package dev.thunderlink.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOption;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** {@link TuningProfile}'s channel options. */
class TuningProfileTest {
  /**
   * On every kind of path, while the socket fills every buffer (a file streaming in), reads grow
   * to 1 MiB instead of Netty's 64 KiB, and shrink again when reads come back short.
   */
  @Test
  void readsGrowToOneMebibyteWhileTheyFillTheirBufferAndShrinkWhenShort() {
    for (PathKind kind : PathKind.values()) {
      EmbeddedChannel ch = new EmbeddedChannel();
      try {
        ch.config().setOptions(TuningProfile.defaults(kind).channelOptions());
        assertThat(ch.config().getOption(ChannelOption.RCVBUF_ALLOCATOR)).as(kind.name()).isNotNull();
        RecvByteBufAllocator.Handle h = ch.config().getRecvByteBufAllocator().newHandle();
        int largest = 0;
        for (int round = 0; round < 20; round++) {
          largest = Math.max(largest, readOnce(ch, h, Integer.MAX_VALUE));
        }
        assertThat(largest).as(kind.name()).isEqualTo(TuningProfile.MAX_READ_BYTES).isEqualTo(1024 * 1024);
        int last = 0;
        for (int round = 0; round < 40; round++) {
          last = readOnce(ch, h, 100);
        }
        assertThat(last).as(kind.name()).isLessThan(64 * 1024);
      } finally {
        ch.close();
      }
    }
  }

  /** One read of at most {@code available} bytes into a buffer the handle sized; its capacity. */
  private static int readOnce(EmbeddedChannel ch, RecvByteBufAllocator.Handle h, int available) {
    h.reset(ch.config());
    ByteBuf b = h.allocate(ch.alloc());
    try {
      int capacity = b.capacity();
      h.lastBytesRead(Math.min(available, b.writableBytes()));
      h.incMessagesRead(1);
      h.readComplete();
      return capacity;
    } finally {
      b.release();
    }
  }
}
