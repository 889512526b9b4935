package dev.thunderlink.transport.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.proto.bulk.FileHeader;
import dev.thunderlink.proto.bulk.Verdict;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkCounters;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link BulkConnection} on an embedded channel. */
class BulkConnectionTest {
  /**
   * A host's bulk channel comes from the gRPC server, whose pooled allocator destroys a chunk
   * each time it empties: the received data queued for the disk thread emptied every chunk in
   * turn, and each new chunk was zeroed and faulted in on the event loop. The connection takes
   * Netty's default allocator instead, whatever the channel came with.
   */
  @Test
  void aBulkChannelTakesItsBuffersFromNettysDefaultAllocatorNotTheAcceptorsPool() {
    EmbeddedChannel ch = new EmbeddedChannel();
    PooledByteBufAllocator grpcLike = new PooledByteBufAllocator(true);
    ch.config().setAllocator(grpcLike);
    BulkConnection.install(ch, BulkConfig.defaults(List.of(Path.of("/tmp"))), new BulkCounters(), false, new NoRole(), true);
    try {
      assertThat(ch.alloc()).isSameAs(ByteBufAllocator.DEFAULT).isNotSameAs(grpcLike);
    } finally {
      ch.close();
    }
  }

  /**
   * While the socket fills every buffer (a file streaming in), reads grow to 1 MiB instead of
   * Netty's 64 KiB, and shrink again when reads come back short (a tree of small files).
   */
  @Test
  void readsGrowToOneMebibyteWhileTheyFillTheirBufferAndShrinkWhenShort() {
    EmbeddedChannel ch = new EmbeddedChannel();
    BulkConnection.install(ch, BulkConfig.defaults(List.of(Path.of("/tmp"))), new BulkCounters(), false, new NoRole(), true);
    try {
      RecvByteBufAllocator.Handle h = ch.config().getRecvByteBufAllocator().newHandle();
      int largest = 0;
      for (int round = 0; round < 20; round++) {
        largest = Math.max(largest, readOnce(ch, h, Integer.MAX_VALUE));
      }
      assertThat(largest).isEqualTo(BulkConnection.MAX_READ_BYTES).isEqualTo(1024 * 1024);
      int last = 0;
      for (int round = 0; round < 40; round++) {
        last = readOnce(ch, h, 100);
      }
      assertThat(last).isLessThan(64 * 1024);
    } finally {
      ch.close();
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
