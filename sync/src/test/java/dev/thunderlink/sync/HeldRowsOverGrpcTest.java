package dev.thunderlink.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.proto.sync.ApplyAllResponse;
import dev.thunderlink.proto.sync.ApplyResponse;
import dev.thunderlink.proto.sync.ChangesBatch;
import dev.thunderlink.proto.sync.ChangesRequest;
import dev.thunderlink.proto.sync.OpenRequest;
import dev.thunderlink.proto.sync.SyncEndpointGrpc;
import dev.thunderlink.proto.sync.WriteFilesResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rows a host wrote for the workstation's own applies do not come back in its changes
 * answers (the flush after an initial sync rescanned 20,420 files and got every one back), while
 * a lost apply reply, a host that predates held rows and a workstation that predates them still
 * get every row, as before.
 */
class HeldRowsOverGrpcTest {
  private static final int FILES = 120;

  @TempDir
  Path tmp;

  private LoopbackSyncHost host;
  private Path a;
  private Path b;
  /** Entries the workstation received in Changes answers. */
  private final AtomicLong entriesReceived = new AtomicLong();
  /** The host answers as one that predates held rows: no generation, no seq. */
  private final AtomicBoolean oldHost = new AtomicBoolean();
  /** The next WriteFiles call is applied by the host, and its reply lost. */
  private final AtomicBoolean loseNextWriteReply = new AtomicBoolean();

  @BeforeEach
  void setUp() throws Exception {
    a = Files.createDirectories(tmp.resolve("a"));
    b = tmp.resolve("b");
    host = new LoopbackSyncHost(tmp.resolve("host-state"));
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    host.close();
  }

  private SyncSession start() throws Exception {
    SyncSessionConfig config = SyncSessionConfig.builder("proj").localRoot(a).remoteRoot(b.toString())
        .stateDir(tmp.resolve("ws-state")).deviceName("book").watch(false).build();
    return SyncSession.start(config, ClientInterceptors.intercept(host.channel(), new Tamper()));
  }

  private void writeTree() throws Exception {
    for (int i = 0; i < FILES; i++) {
      Path f = a.resolve("d" + (i % 3) + "/f" + i + ".txt");
      Files.createDirectories(f.getParent());
      Files.writeString(f, "file " + i);
    }
  }

  @Test
  void theFlushAfterAnInitialSyncGetsNoneOfTheRowsTheSyncWroteBack() throws Exception {
    writeTree();
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      s.flush(Duration.ofSeconds(60)); // a full rescan of both sides
      assertThat(SyncPair.tree(b)).isEqualTo(SyncPair.tree(a)).hasSize(FILES + 3);
      assertThat(entriesReceived.get()).as("the host's tree was empty: every entry would be an echo").isZero();

      // what the host really changes still comes back
      Files.writeString(b.resolve("d1/f1.txt"), "edited on the mini");
      s.flush(Duration.ofSeconds(60));
      assertThat(a.resolve("d1/f1.txt")).hasContent("edited on the mini");
      assertThat(entriesReceived.get()).isEqualTo(1);
    }
  }

  @Test
  void aHostThatPredatesHeldRowsSendsThemAllAsBefore() throws Exception {
    oldHost.set(true);
    writeTree();
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      s.flush(Duration.ofSeconds(60));
      assertThat(SyncPair.tree(b)).isEqualTo(SyncPair.tree(a)).hasSize(FILES + 3);
      assertThat(entriesReceived.get()).isGreaterThanOrEqualTo(FILES + 3);
    }
  }

  @Test
  void aLostWriteReplyStillConverges() throws Exception {
    writeTree();
    loseNextWriteReply.set(true);
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
      assertThat(loseNextWriteReply.get()).as("a reply was lost").isFalse();
      s.flush(Duration.ofSeconds(60));
      assertThat(SyncPair.tree(b)).isEqualTo(SyncPair.tree(a)).hasSize(FILES + 3);
      assertThat(s.status().errors()).isEmpty();
      // the files of the lost reply were applied: their rows came back instead of being held
      assertThat(entriesReceived.get()).isPositive();
      Files.writeString(b.resolve("d0/f0.txt"), "edited on the mini");
      s.flush(Duration.ofSeconds(60));
      assertThat(a.resolve("d0/f0.txt")).hasContent("edited on the mini");
    }
  }

  @Test
  void aWorkstationThatPredatesHeldRowsGetsEveryRow() throws Exception {
    writeTree();
    try (SyncSession s = start()) {
      s.flush(Duration.ofSeconds(60));
    }
    SyncEndpointGrpc.SyncEndpointBlockingStub stub = SyncEndpointGrpc.newBlockingStub(host.channel());
    String id = stub.open(OpenRequest.newBuilder().setSession("proj").setRoot(b.toString()).build()).getEndpointId();
    long entries = 0;
    for (java.util.Iterator<ChangesBatch> it = stub.changes(ChangesRequest.newBuilder().setEndpointId(id)
        .setFullRescan(true).build()); it.hasNext(); ) {
      entries += it.next().getEntriesCount();
    }
    assertThat(entries).isEqualTo(FILES + 3);
    assertThatThrownBy(() -> stub.changes(ChangesRequest.newBuilder().setEndpointId(id).setHeldGeneration(1)
        .addHeldSeqRanges(4).addHeldSeqRanges(2).build()).hasNext())
        .isInstanceOf(StatusRuntimeException.class)
        .hasMessage("INVALID_ARGUMENT: held seq range: [4, 2] (expected: first <= last, above the range before)");
  }

  /** Counts what the Changes answers carry; plays an old host or loses a reply when asked. */
  private final class Tamper implements ClientInterceptor {
    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      String name = method.getBareMethodName();
      boolean lose = name.equals("WriteFiles") && loseNextWriteReply.compareAndSet(true, false);
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<R> listener, Metadata headers) {
          super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
            @Override
            public void onMessage(R message) {
              if (lose) {
                return;
              }
              if (message instanceof ChangesBatch c) {
                entriesReceived.addAndGet(c.getEntriesCount());
              }
              super.onMessage(oldHost.get() ? asOldHost(message) : message);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
              super.onClose(lose ? Status.UNAVAILABLE.withDescription("reply lost (test)") : status, trailers);
            }
          }, headers);
        }
      };
    }
  }

  /** An answer without the fields a host that predates held rows does not send. */
  @SuppressWarnings("unchecked")
  private static <R> R asOldHost(R message) {
    if (message instanceof ChangesBatch c) {
      return (R) c.toBuilder().clearGeneration().build();
    }
    if (message instanceof ApplyResponse r) {
      return (R) r.toBuilder().clearSeq().build();
    }
    if (message instanceof WriteFilesResponse w) {
      WriteFilesResponse.Builder nb = w.toBuilder();
      nb.getResultsBuilderList().forEach(ApplyResponse.Builder::clearSeq);
      return (R) nb.build();
    }
    if (message instanceof ApplyAllResponse w) {
      ApplyAllResponse.Builder nb = w.toBuilder();
      nb.getResultsBuilderList().forEach(ApplyResponse.Builder::clearSeq);
      return (R) nb.build();
    }
    return message;
  }
}
