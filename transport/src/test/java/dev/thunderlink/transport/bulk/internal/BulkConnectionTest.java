package dev.thunderlink.transport.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.proto.bulk.Digest;
import dev.thunderlink.proto.bulk.DigestAlgorithm;
import dev.thunderlink.proto.bulk.FileHeader;
import dev.thunderlink.proto.bulk.Verdict;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkCounters;
import dev.thunderlink.transport.bulk.TransferMode;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  @TempDir Path dir;

  /**
   * With several disk threads, a tree's files are written on more than one of them, each path
   * always on the same one (so two transfers of one file never race for its partial file), and
   * a digest that comes before its stream's BEGIN (it travels on the control plane) is kept for
   * it; a digest for a stream already done is ignored.
   */
  @Test
  void filesAreWrittenOnSeveralDiskThreadsEachPathOnOneAndEarlyDigestsWait() throws Exception {
    Recording role = new Recording(dir);
    EmbeddedChannel ch = new EmbeddedChannel();
    BulkConnection c = BulkConnection.install(
        ch, BulkConfig.defaults(List.of(dir)).withDiskThreads(4), new BulkCounters(), false, role, true);
    try {
      int files = 64;
      int stream = 0;
      for (int round = 0; round < 2; round++) {
        for (int i = 0; i < files; i++) {
          stream++;
          byte[] content = ("round " + round + " file " + i + "\n").repeat(50 + i).getBytes(StandardCharsets.UTF_8);
          String path = "tree/d" + i % 5 + "/f" + i + ".txt";
          var md = Hashing.content(DigestAlgorithm.DIGEST_ALGORITHM_SHA256);
          md.update(content, 0, content.length);
          Digest d = md.into(Digest.newBuilder().setSize(content.length)).build();
          boolean early = i % 2 == 0;
          if (early) {
            c.onDigest(stream, d);
          }
          FileHeader h = FileHeader.newBuilder()
              .setPath(path)
              .setSize(content.length)
              .setMtimeMillis(1_600_000_000_000L)
              .setMode(TransferMode.HEAP.wire())
              .setDigest(DigestAlgorithm.DIGEST_ALGORITHM_SHA256)
              .build();
          ch.writeInbound(Frame.encode(ch.alloc(), Frame.BEGIN, stream, h.toByteArray()));
          ch.writeInbound(Frame.encode(ch.alloc(), Frame.DATA_RAW, stream, content));
          ch.writeInbound(Frame.encode(ch.alloc(), Frame.END, stream, new byte[0]));
          if (!early) {
            c.onDigest(stream, d);
          }
          c.onDigest(stream, d); // twice: the second finds the stream done (or about to be) and is ignored
        }
        role.await(files * (round + 1));
        for (int i = 0; i < files; i++) {
          assertThat(Files.readString(dir.resolve("tree/d" + i % 5 + "/f" + i + ".txt")))
              .isEqualTo(("round " + round + " file " + i + "\n").repeat(50 + i));
        }
      }
      assertThat(role.verdicts).hasSize(2 * files).allSatisfy((s, v) -> assertThat(v.getError()).isEmpty());
      assertThat(role.threads.values()).allSatisfy(t -> assertThat(t).hasSize(1)); // one thread per path, both rounds
      Set<String> used = new HashSet<>();
      role.threads.values().forEach(used::addAll);
      assertThat(used).hasSizeGreaterThan(1);
      try (var leftovers = Files.walk(dir)) {
        assertThat(leftovers.filter(p -> p.getFileName().toString().endsWith(".tlpart"))).isEmpty();
      }
    } finally {
      ch.close();
    }
  }

  /** Receives into a directory; records each path's disk threads and every verdict. */
  private static final class Recording implements BulkConnection.Role {
    final Path root;
    final Map<String, Set<String>> threads = new ConcurrentHashMap<>();
    final Map<Integer, Verdict> verdicts = new ConcurrentHashMap<>();

    Recording(Path root) {
      this.root = root;
    }

    @Override
    public void control(BulkConnection c, Frame f) {}

    @Override
    public PermittedRoots.Target destination(int stream, FileHeader header) {
      threads.computeIfAbsent(header.getPath(), k -> ConcurrentHashMap.newKeySet()).add(Thread.currentThread().getName());
      return new PermittedRoots.Target(root.resolve(header.getPath()), false);
    }

    @Override
    public void verdict(int stream, Verdict verdict) {
      synchronized (this) {
        verdicts.put(stream, verdict);
        notifyAll();
      }
    }

    synchronized void await(int n) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (verdicts.size() < n && System.nanoTime() < deadline) {
        wait(100);
      }
      assertThat(verdicts).as("verdicts").hasSize(n);
    }

    @Override
    public void peerError(int stream, String message) {}

    @Override
    public void closed(String reason) {}
  }
}
