package dev.thunderlink.transport.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.proto.bulk.FileHeader;
import dev.thunderlink.proto.bulk.Verdict;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkCounters;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
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
}
