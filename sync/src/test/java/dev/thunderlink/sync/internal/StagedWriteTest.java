package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.proto.sync.WriteMessage;
import dev.thunderlink.sync.FilePusher;
import dev.thunderlink.sync.SyncHostService;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upload built from the destination's blocks and a delta's changed blocks staged beside it
 * (as the bulk plane leaves them): {@link Endpoint.FileUpload#copyStaged}.
 */
class StagedWriteTest {
  private static final int BLOCK = 4096;

  @TempDir Path tmp;
  private Path root;
  private DiskEndpoint side;
  private byte[] old;
  private Entry scanned;

  @BeforeEach
  void open() throws Exception {
    root = Files.createDirectories(tmp.resolve("root"));
    side = DiskEndpoint.open(root, tmp.resolve("index.db"), DiskEndpoint.Options.defaults("mini"), false);
    old = new byte[4 * BLOCK];
    new Random(5).nextBytes(old);
    Files.write(root.resolve("f.bin"), old);
    scanned = side.changes(0, true, List.of()).changes().get("f.bin");
  }

  @AfterEach
  void close() throws Exception {
    side.close();
  }

  /** The file with one byte of block 2 changed. */
  private byte[] withBlock2Changed() {
    byte[] now = old.clone();
    now[2 * BLOCK + 7] ^= 1;
    return now;
  }

  /** Stages block 2 of {@code now} under {@code name}; returns the entry of {@code now}. */
  private Entry stageBlock2(String name, byte[] now) throws Exception {
    Files.write(root.resolve(name), Arrays.copyOfRange(now, 2 * BLOCK, 3 * BLOCK));
    return Entry.file(ContentHash.of(now), now.length, false, 0);
  }

  /** Writes f.bin as blocks 0-1 and 3 of the file there and block 2 from the staged file {@code name}. */
  private ApplyResult writeWithBlock2Staged(String name, Entry target) throws Exception {
    try (Endpoint.FileUpload up = side.beginWrite("f.bin", scanned, target, BLOCK)) {
      up.copyBasis(0, 2);
      up.copyStaged(name, 0, 2L * BLOCK, BLOCK);
      up.copyBasis(3, 1);
      return up.commit();
    }
  }

  private List<String> temporaries() throws Exception {
    try (Stream<Path> s = Files.list(root)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(IgnoreRules.TEMP_PREFIX)).toList();
    }
  }

  @Test
  void basisBlocksAndStagedBlocksMakeTheTargetAndTheStagedFileGoes() throws Exception {
    byte[] now = withBlock2Changed();
    String name = DiskEndpoint.tempName();
    ApplyResult r = writeWithBlock2Staged(name, stageBlock2(name, now));
    assertThat(r.outcome()).isEqualTo(ApplyResult.Outcome.OK);
    assertThat(Files.readAllBytes(root.resolve("f.bin"))).isEqualTo(now);
    assertThat(temporaries()).isEmpty();
  }

  @Test
  void stagedBlocksOfAnotherContentAreRefusedAsChangedAndLeaveNothing() throws Exception {
    byte[] now = withBlock2Changed();
    String name = DiskEndpoint.tempName();
    Entry target = stageBlock2(name, now);
    Files.write(root.resolve(name), new byte[BLOCK]); // the source changed again before its blocks were read
    ApplyResult r = writeWithBlock2Staged(name, target);
    assertThat(r.outcome()).isEqualTo(ApplyResult.Outcome.CHANGED);
    assertThat(Files.readAllBytes(root.resolve("f.bin"))).isEqualTo(old);
    assertThat(temporaries()).isEmpty();
  }

  @Test
  void missingShortOrMisnamedStagedBlocksFailTheWriteWithAOneLineReason() throws Exception {
    byte[] now = withBlock2Changed();
    String name = DiskEndpoint.tempName();
    Entry target = stageBlock2(name, now);
    try (Endpoint.FileUpload up = side.beginWrite("f.bin", scanned, target, BLOCK)) {
      up.copyStaged(DiskEndpoint.tempName(), 0, 0, BLOCK);
      assertThat(up.commit().message()).isEqualTo("f.bin: its staged blocks are gone");
    }
    try (Endpoint.FileUpload up = side.beginWrite("f.bin", scanned, target, BLOCK)) {
      assertThatThrownBy(() -> up.copyStaged(name, BLOCK / 2, 0, BLOCK))
          .hasMessage("f.bin: its staged blocks end before byte " + (BLOCK / 2 + BLOCK));
    }
    assertThat(temporaries()).as("the aborted write removed its staged file too").isEmpty();
    try (Endpoint.FileUpload up = side.beginWrite("f.bin", scanned, target, BLOCK)) {
      assertThatThrownBy(() -> up.copyStaged("../f.bin", 0, 0, BLOCK)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("staged name: ../f.bin (expected: a name starting with " + IgnoreRules.TEMP_PREFIX + ")");
      assertThatThrownBy(() -> up.copyStaged("f.bin", 0, 0, BLOCK)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(Files.readAllBytes(root.resolve("f.bin"))).isEqualTo(old);
  }

  /** A host that predates WriteStaged: it fails a Write that has one as an empty message. */
  private static final ServerInterceptor OLD_HOST = new ServerInterceptor() {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      ServerCall.Listener<Q> listener = next.startCall(call, headers);
      if (!call.getMethodDescriptor().getBareMethodName().equals("Write")) {
        return listener;
      }
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
        private boolean refused;

        @Override
        public void onMessage(Q message) {
          if (!refused && ((WriteMessage) message).hasStaged()) {
            refused = true;
            call.close(Status.INVALID_ARGUMENT.withDescription(
                "write message: empty (expected: header, literal, basis or commit)"), new Metadata());
          } else if (!refused) {
            super.onMessage(message);
          }
        }

        @Override
        public void onHalfClose() {
          if (!refused) {
            super.onHalfClose();
          }
        }
      };
    }
  };

  /** Pushes the ranges by copying them: host and workstation share this disk. */
  private static final FilePusher COPYING = new FilePusher() {
    @Override
    public List<String> push(List<Item> items) throws IOException {
      for (Item it : items) {
        byte[] all = Files.readAllBytes(it.local());
        try (RandomAccessFile out = new RandomAccessFile(it.hostPath(), "rw")) {
          for (long[] r : it.ranges()) {
            out.write(all, (int) r[0], (int) r[1]);
          }
        }
      }
      return java.util.Collections.nCopies(items.size(), null);
    }

    @Override
    public List<String> pull(List<Item> items) {
      return java.util.Collections.nCopies(items.size(), "not in this test");
    }
  };

  @Test
  void aHostThatPredatesStagedPartsGetsADeltasBlocksByGrpcFromThenOn() throws Exception {
    Path hostRoot = Files.createDirectories(tmp.resolve("host-root"));
    Files.write(hostRoot.resolve("f.bin"), old);
    SyncHostService host = new SyncHostService(tmp.resolve("host-state"), "mini", true, Duration.ofMillis(10));
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(host, OLD_HOST)).build().start();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    try (RemoteEndpoint remote = RemoteEndpoint.open(channel, COPYING, "s", hostRoot.toString(), List.of(), false, false, false)) {
      Entry there = remote.changes(0, true, List.of()).changes().get("f.bin");
      byte[] now = withBlock2Changed();
      Files.write(root.resolve("f.bin"), now);
      Entry src = side.changes(0, true, List.of()).changes().get("f.bin");
      List<long[]> block2 = new ArrayList<>();
      block2.add(new long[] {2L * BLOCK, BLOCK});
      String name = side.bulkTo(remote).stageRanges("f.bin", src, block2);
      assertThat(hostRoot.resolve(name)).exists();
      assertThatThrownBy(() -> {
        try (Endpoint.FileUpload up = remote.beginWrite("f.bin", there, src, BLOCK)) {
          up.copyBasis(0, 2);
          up.copyStaged(name, 0, 2L * BLOCK, BLOCK);
          up.copyBasis(3, 1);
          up.commit();
        }
      }).isInstanceOf(IOException.class).hasMessageContaining("INVALID_ARGUMENT write message: empty");
      assertThat(side.bulkTo(remote).stageRanges("f.bin", src, block2)).as("no more blocks staged on that host").isNull();
      try (Endpoint.FileUpload up = remote.beginWrite("f.bin", there, src, BLOCK)) {
        up.copyBasis(0, 2);
        up.write(2L * BLOCK, Arrays.copyOfRange(now, 2 * BLOCK, 3 * BLOCK));
        up.copyBasis(3, 1);
        assertThat(up.commit().outcome()).isEqualTo(ApplyResult.Outcome.OK);
      }
      assertThat(Files.readAllBytes(hostRoot.resolve("f.bin"))).isEqualTo(now);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      host.close();
    }
  }
}
