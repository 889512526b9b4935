package dev.thunderlink.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.thunderlink.proto.sync.OpenRequest;
import dev.thunderlink.proto.sync.OpenResponse;
import dev.thunderlink.proto.sync.ReadChunk;
import dev.thunderlink.proto.sync.ReadRequest;
import dev.thunderlink.proto.sync.SyncEndpointGrpc;
import dev.thunderlink.proto.sync.WatchEvent;
import dev.thunderlink.proto.sync.WatchRequest;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The shutdown gates against a real gRPC server and channel on loopback: work in flight is
 * waited for, subscriptions are cut at once, new calls are refused, and whatever is cut ends
 * with {@code UNAVAILABLE} and the reason on the client.
 */
class CallGatesTest {
  private static final String REASON = "thunderlink host is shutting down; retry after it restarts";
  private static final String WATCH = SyncEndpointGrpc.getWatchMethod().getFullMethodName();

  /** Watch: one event, then open until cancelled. Read: one chunk per request path, then waits for {@link #finish}. */
  private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<Void> finish = new CompletableFuture<>();
  private final ServerCallGate serverGate = new ServerCallGate(Set.of(WATCH));
  private Server server;
  private ManagedChannel channel;

  private final class Service extends SyncEndpointGrpc.SyncEndpointImplBase {
    @Override
    public void open(OpenRequest request, StreamObserver<OpenResponse> out) {
      out.onNext(OpenResponse.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void watch(WatchRequest request, StreamObserver<WatchEvent> out) {
      ((ServerCallStreamObserver<WatchEvent>) out).setOnCancelHandler(() -> cancelled.add("watch"));
      out.onNext(WatchEvent.newBuilder().setPendingPaths(1).build());
    }

    @Override
    public void read(ReadRequest request, StreamObserver<ReadChunk> out) {
      ((ServerCallStreamObserver<ReadChunk>) out).setOnCancelHandler(() -> cancelled.add("read " + request.getPath()));
      out.onNext(ReadChunk.newBuilder().setData(ByteString.copyFromUtf8(request.getPath())).build());
      finish.thenRun(() -> {
        out.onNext(ReadChunk.newBuilder().setOffset(1).build()); // dropped if the gate cut the call
        out.onCompleted();
      });
    }
  }

  /** A client stream's messages and how it ended. */
  private static final class Recorder<T> implements StreamObserver<T> {
    final List<T> messages = new CopyOnWriteArrayList<>();
    final CompletableFuture<Status> end = new CompletableFuture<>();

    @Override
    public void onNext(T value) {
      messages.add(value);
    }

    @Override
    public void onError(Throwable t) {
      end.complete(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      end.complete(Status.OK);
    }

    Status status() throws Exception {
      return end.get(10, TimeUnit.SECONDS);
    }
  }

  @BeforeEach
  void start() throws Exception {
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .addService(ServerInterceptors.intercept(new Service(), serverGate))
            .build()
            .start();
    channel = NettyChannelBuilder.forAddress(InetAddress.getLoopbackAddress().getHostAddress(), server.getPort()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    finish.complete(null);
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private Recorder<ReadChunk> read(io.grpc.Channel ch, String path) {
    Recorder<ReadChunk> r = new Recorder<>();
    SyncEndpointGrpc.newStub(ch).read(ReadRequest.newBuilder().setPath(path).build(), r);
    return r;
  }

  private static void awaitFirst(Recorder<?> r) {
    dev.thunderlink.transport.testing.Await.until(java.time.Duration.ofSeconds(10), () -> !r.messages.isEmpty(), () -> "no first message");
  }

  @Test
  void serverStopsAcceptingCutsSubscriptionsAtOnceWaitsForWorkThenCutsItWithTheReason() throws Exception {
    Recorder<WatchEvent> watch = new Recorder<>();
    SyncEndpointGrpc.newStub(channel).watch(WatchRequest.getDefaultInstance(), watch);
    Recorder<ReadChunk> work = read(channel, "big.bin");
    awaitFirst(watch);
    awaitFirst(work);
    assertThat(serverGate.openCalls()).isEqualTo(2);

    serverGate.stopAccepting(REASON);

    Status w = watch.status();
    assertThat(w.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(w.getDescription()).isEqualTo(REASON);
    dev.thunderlink.transport.testing.Await.until(java.time.Duration.ofSeconds(5), () -> cancelled.contains("watch"), () -> "watch service not told: " + cancelled);
    // new calls are refused with the reason, on the same (still open) port
    Status refused =
        Status.fromThrowable(
            org.assertj.core.api.Assertions.catchThrowable(
                () -> SyncEndpointGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS).open(OpenRequest.getDefaultInstance())));
    assertThat(refused.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(refused.getDescription()).isEqualTo(REASON);
    // the transfer in flight is waited for
    assertThat(serverGate.drained()).isNotDone();
    assertThat(work.end).isNotDone();

    List<String> cut = serverGate.cut(REASON);

    assertThat(cut).containsExactly("call thunderlink.sync.v1.SyncEndpoint/Read");
    Status r = work.status();
    assertThat(r.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(r.getDescription()).isEqualTo(REASON);
    assertThat(work.messages).hasSize(1);
    assertThat(serverGate.drained()).isDone();
    // the service hears that its client is gone (it stops its upstream call, its file reads)
    dev.thunderlink.transport.testing.Await.until(java.time.Duration.ofSeconds(5), () -> cancelled.contains("read big.bin"), () -> "read service not told: " + cancelled);
    finish.complete(null); // a late write of the service after the cut is dropped, not thrown
  }

  @Test
  void anAlwaysServedServiceKeepsAnsweringWhileTheServerDrains() throws Exception {
    ServerCallGate probes = new ServerCallGate(Set.of(), Set.of(SyncEndpointGrpc.SERVICE_NAME));
    Server s =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .addService(ServerInterceptors.intercept(new Service(), probes))
            .build()
            .start();
    ManagedChannel c = NettyChannelBuilder.forAddress(InetAddress.getLoopbackAddress().getHostAddress(), s.getPort()).usePlaintext().build();
    try {
      probes.stopAccepting(REASON);
      assertThat(SyncEndpointGrpc.newBlockingStub(c).withDeadlineAfter(5, TimeUnit.SECONDS).open(OpenRequest.getDefaultInstance()))
          .isNotNull();
      assertThat(probes.openCalls()).isZero();
      assertThat(probes.drained()).isDone();
    } finally {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void workThatFinishesDuringTheDrainCompletesItWithoutACut() throws Exception {
    Recorder<ReadChunk> work = read(channel, "small.txt");
    awaitFirst(work);
    serverGate.stopAccepting(REASON);
    assertThat(serverGate.drained()).isNotDone();
    finish.complete(null);
    assertThat(work.status().getCode()).isEqualTo(Status.Code.OK);
    assertThat(work.messages).hasSize(2);
    serverGate.drained().get(5, TimeUnit.SECONDS);
    assertThat(serverGate.cut(REASON)).isEmpty();
  }

  @Test
  void clientGateRefusesNewCallsAndEndsTheOnesItCutsWithUnavailableAndTheReason() throws Exception {
    ClientCallGate gate = new ClientCallGate();
    io.grpc.Channel gated = ClientInterceptors.intercept(channel, gate);
    Recorder<ReadChunk> stream = read(gated, "tokens");
    awaitFirst(stream);
    assertThat(gate.openCalls()).isEqualTo(1);
    String reason = "thunderlink workstation is shutting down; retry after it restarts";

    gate.stopAccepting(reason);
    Recorder<ReadChunk> late = read(gated, "late");
    Status l = late.status();
    assertThat(l.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(l.getDescription()).isEqualTo(reason);
    assertThat(late.messages).isEmpty();
    assertThat(stream.end).isNotDone();
    assertThat(gate.drained()).isNotDone();

    assertThat(gate.cut(reason)).containsExactly("call thunderlink.sync.v1.SyncEndpoint/Read");

    Status s = stream.status();
    assertThat(s.getCode()).as("not CANCELLED: the client is told why").isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(s.getDescription()).isEqualTo(reason);
    gate.drained().get(5, TimeUnit.SECONDS);
    dev.thunderlink.transport.testing.Await.until(java.time.Duration.ofSeconds(5), () -> cancelled.contains("read tokens"), () -> "server not told: " + cancelled);
  }
}
