package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.sync.SyncHostService;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;

/** The workstation's view of the host side over a real grpc-netty server on 127.0.0.1. */
class RemoteEndpointTest {
  @TempDir
  Path tmp;

  private final AtomicInteger changesCalls = new AtomicInteger();
  private final java.util.Map<String, AtomicInteger> calls = new java.util.concurrent.ConcurrentHashMap<>();
  private ServerInterceptor counter;
  private SyncHostService host;
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    counter = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        calls.computeIfAbsent(call.getMethodDescriptor().getBareMethodName(), k -> new AtomicInteger())
            .incrementAndGet();
        if (call.getMethodDescriptor().getBareMethodName().equals("Changes")) {
          changesCalls.incrementAndGet();
        }
        return next.startCall(call, headers);
      }
    };
    host = new SyncHostService(tmp.resolve("host-state"), "mini", true, Duration.ofMillis(10));
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(host, counter)).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    host.close();
  }

  @Test
  void incrementalChangesSkipTheRoundTripWhileTheHostHasSignalledNothing() throws Exception {
    Path root = tmp.resolve("mini-root");
    try (RemoteEndpoint remote = RemoteEndpoint.open(channel, "s", root.toString(), List.of(), false, false, false)) {
      AtomicInteger events = new AtomicInteger();
      remote.onChange(events::incrementAndGet);
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(remote::watchLive);
      Endpoint.ChangeSet first = remote.changes(0, false, List.of());
      assertThat(changesCalls.get()).isEqualTo(1);
      Endpoint.ChangeSet quiet = remote.changes(first.lastSeq(), false, List.of());
      assertThat(quiet.changes()).isEmpty();
      assertThat(changesCalls.get()).as("nothing signalled: answered without a call").isEqualTo(1);
      remote.changes(first.lastSeq(), true, List.of());
      assertThat(changesCalls.get()).as("a full rescan always asks").isEqualTo(2);

      // a change on the host arrives as an event, and the next call asks again and sees it (the
      // count starts afresh: a signal from the watch's start, under load, could come in late
      // and pass for the write's)
      events.set(0);
      Files.writeString(root.resolve("new.txt"), "from the mini");
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> events.get() > 0);
      Endpoint.ChangeSet seen = remote.changes(first.lastSeq(), false, List.of());
      assertThat(changesCalls.get()).isEqualTo(3);
      assertThat(seen.changes()).containsKey("new.txt");
    }
  }

  private int calls(String method) {
    AtomicInteger n = calls.get(method);
    return n == null ? 0 : n.get();
  }

  /** Directories, a deletion and an exec bit, as a plan's non-content steps carry them. */
  private static List<Endpoint.Op> someOps(Endpoint.ChangeSet scanned) {
    Entry dir = Entry.directory();
    List<Endpoint.Op> ops = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ops.add(new Endpoint.Op(Endpoint.OpKind.MKDIR, "d" + i, null, dir, null, null));
    }
    Entry gone = scanned.changes().get("gone.txt");
    ops.add(new Endpoint.Op(Endpoint.OpKind.DELETE, "gone.txt", gone, null, null, null));
    Entry run = scanned.changes().get("run.sh");
    ops.add(new Endpoint.Op(Endpoint.OpKind.SET_ATTRIBUTES, "run.sh", run,
        Entry.file(run.hash(), run.size(), true, run.mtimeMillis()), null, null));
    // scanned as absent, but there now: refused on its own, the others still applied
    ops.add(new Endpoint.Op(Endpoint.OpKind.MKDIR, "late", null, dir, null, null));
    return ops;
  }

  private static Path hostTree(Path root) throws Exception {
    Files.createDirectories(root);
    Files.writeString(root.resolve("gone.txt"), "to delete");
    Files.writeString(root.resolve("run.sh"), "#!/bin/sh");
    Files.setLastModifiedTime(root.resolve("gone.txt"), java.nio.file.attribute.FileTime.fromMillis(1_000_000));
    Files.setLastModifiedTime(root.resolve("run.sh"), java.nio.file.attribute.FileTime.fromMillis(1_000_000));
    return root;
  }

  private static void assertApplied(Path root, List<ApplyResult> results) {
    assertThat(results).extracting(ApplyResult::outcome).containsExactly(ApplyResult.Outcome.OK,
        ApplyResult.Outcome.OK, ApplyResult.Outcome.OK, ApplyResult.Outcome.OK, ApplyResult.Outcome.OK,
        ApplyResult.Outcome.OK, ApplyResult.Outcome.OK, ApplyResult.Outcome.CHANGED);
    for (int i = 0; i < 5; i++) {
      assertThat(root.resolve("d" + i)).isDirectory();
    }
    assertThat(root.resolve("gone.txt")).doesNotExist();
    assertThat(Files.isExecutable(root.resolve("run.sh"))).isTrue();
    assertThat(results.get(0).result()).isEqualTo(Entry.directory());
  }

  /**
   * A connection closed under a call is a lost peer, which the session retries with the whole
   * cycle once the link is back; an error the host answers is the path's own. grpc-netty reports
   * the first as UNKNOWN "channel closed" with a ClosedChannelException cause (its
   * Utils.statusFromThrowable), not UNAVAILABLE: a soak that killed the host mid-apply left
   * {@code remote apply SET_ATTRIBUTES d1/f1.txt: UNKNOWN channel closed} in a session's
   * per-path problems after the sides agreed again. A client interceptor fails the call as
   * grpc-netty does when the socket closes under it (the timing of a real close decides between
   * that and UNAVAILABLE); the host's UNKNOWN comes from the real server.
   */
  @Test
  void aConnectionClosedUnderACallIsALostPeerAndAnUnknownErrorFromTheHostIsThePaths() throws Exception {
    Path root = hostTree(tmp.resolve("closed-root"));
    java.util.concurrent.atomic.AtomicBoolean closeUnderApply = new java.util.concurrent.atomic.AtomicBoolean();
    io.grpc.ClientInterceptor closing = new io.grpc.ClientInterceptor() {
      @Override
      public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> m, io.grpc.CallOptions o,
          io.grpc.Channel next) {
        if (!closeUnderApply.get() || !m.getBareMethodName().equals("Apply")) {
          return next.newCall(m, o);
        }
        return new io.grpc.ClientCall<Q, R>() {
          private Listener<R> listener;

          @Override
          public void start(Listener<R> l, Metadata headers) {
            listener = l;
          }

          @Override
          public void request(int n) {}

          @Override
          public void cancel(String message, Throwable cause) {}

          @Override
          public void sendMessage(Q message) {}

          @Override
          public void halfClose() {
            listener.onClose(io.grpc.Status.UNKNOWN.withDescription("channel closed")
                .withCause(new java.nio.channels.ClosedChannelException()), new Metadata());
          }
        };
      }
    };
    io.grpc.Channel intercepted = io.grpc.ClientInterceptors.intercept(channel, closing);
    try (RemoteEndpoint remote = RemoteEndpoint.open(intercepted, "s", root.toString(), List.of(), false, false, false)) {
      Endpoint.ChangeSet scanned = remote.changes(0, true, List.of());
      Entry run = scanned.changes().get("run.sh");
      Endpoint.Op exec = new Endpoint.Op(Endpoint.OpKind.SET_ATTRIBUTES, "run.sh", run,
          Entry.file(run.hash(), run.size(), true, run.mtimeMillis()), null, null);
      closeUnderApply.set(true);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> remote.apply(exec))
          .isInstanceOf(Endpoint.PeerUnavailableException.class)
          .hasMessage("remote apply SET_ATTRIBUTES run.sh: UNKNOWN channel closed");
      closeUnderApply.set(false);
      assertThat(remote.apply(exec).outcome()).isEqualTo(ApplyResult.Outcome.OK);
    }
    // the host's own UNKNOWN (an exception in its handler) carries no cause over the wire
    ServerInterceptor failing = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        if (call.getMethodDescriptor().getBareMethodName().equals("Apply")) {
          call.close(io.grpc.Status.UNKNOWN.withDescription("the host's handler failed"), new Metadata());
          return new ServerCall.Listener<>() {};
        }
        return next.startCall(call, headers);
      }
    };
    Server failingServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(host, failing)).build().start();
    ManagedChannel failingChannel = NettyChannelBuilder.forAddress("127.0.0.1", failingServer.getPort()).usePlaintext().build();
    try (RemoteEndpoint remote = RemoteEndpoint.open(failingChannel, "s2", root.toString(), List.of(), false, false, false)) {
      Endpoint.ChangeSet scanned = remote.changes(0, true, List.of());
      Entry run = scanned.changes().get("run.sh");
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> remote.apply(new Endpoint.Op(Endpoint.OpKind.SET_ATTRIBUTES,
              "run.sh", run, Entry.file(run.hash(), run.size(), false, run.mtimeMillis()), null, null)))
          .isNotInstanceOf(Endpoint.PeerUnavailableException.class)
          .hasMessage("remote apply SET_ATTRIBUTES run.sh: UNKNOWN the host's handler failed");
    } finally {
      failingChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      failingServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /**
   * An idle session hears of the host's restart: the watch stream's end wakes it, its cycle then
   * meets the host that forgot the endpoint (NOT_FOUND), which opens it again. It slept through a
   * host killed a second after a 20,000-file first sync, with the link back up and nothing
   * changing on the workstation: the host's changes waited for the periodic rescan.
   */
  @Test
  void theEndOfTheWatchStreamWakesAnIdleSessionAndTheRestartedHostIsOpenedAgain() throws Exception {
    Path root = hostTree(tmp.resolve("restart-root"));
    AtomicInteger woken = new AtomicInteger();
    try (RemoteEndpoint remote = RemoteEndpoint.open(channel, "s", root.toString(), List.of(), false, false, false)) {
      remote.onChange(woken::incrementAndGet);
      remote.changes(0, true, List.of());
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> woken.get() >= 1); // the stream is live
      int before = woken.get();
      int port = server.getPort();
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS); // the host goes away
      host.close();
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> woken.get() > before);

      // the host again, on the same address, without the endpoint
      host = new SyncHostService(tmp.resolve("host-state"), "mini", true, Duration.ofMillis(10));
      server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
          .addService(ServerInterceptors.intercept(host, counter)).build().start();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> remote.changes(0, true, List.of()))
          .isInstanceOf(Endpoint.PeerUnavailableException.class).hasMessageContaining("NOT_FOUND");
      Files.writeString(root.resolve("made-after.txt"), "made after the restart");
      assertThat(remote.changes(0, true, List.of()).changes()).containsKey("made-after.txt");
    }
  }

  @Test
  void applyAllCarriesManyOperationsInOneCallEachAnsweredOnItsOwn() throws Exception {
    Path root = hostTree(tmp.resolve("batch-root"));
    try (RemoteEndpoint remote = RemoteEndpoint.open(channel, "s", root.toString(), List.of(), false, false, false)) {
      Endpoint.ChangeSet scanned = remote.changes(0, true, List.of());
      Files.createDirectories(root.resolve("late"));
      List<ApplyResult> results = remote.applyAll(someOps(scanned));
      assertApplied(root, results);
      assertThat(calls("ApplyAll")).isEqualTo(1);
      assertThat(calls("Apply")).isZero();
    }
  }

  @Test
  void applyAllFallsBackToOneCallPerOperationAgainstAHostWithoutIt() throws Exception {
    // an older host: the same service without the ApplyAll method answers UNIMPLEMENTED
    ServerServiceDefinition full = host.bindService();
    ServerServiceDefinition.Builder old = ServerServiceDefinition.builder(full.getServiceDescriptor().getName());
    for (ServerMethodDefinition<?, ?> m : full.getMethods()) {
      if (!m.getMethodDescriptor().getBareMethodName().equals("ApplyAll")) {
        old.addMethod(m);
      }
    }
    Server oldServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(old.build(), counter)).build().start();
    ManagedChannel oldChannel = NettyChannelBuilder.forAddress("127.0.0.1", oldServer.getPort()).usePlaintext().build();
    Path root = hostTree(tmp.resolve("old-root"));
    try (RemoteEndpoint remote = RemoteEndpoint.open(oldChannel, "s", root.toString(), List.of(), false, false, false)) {
      Endpoint.ChangeSet scanned = remote.changes(0, true, List.of());
      Files.createDirectories(root.resolve("late"));
      List<ApplyResult> results = remote.applyAll(someOps(scanned));
      assertApplied(root, results);
      assertThat(remote.applyAllSupported()).isFalse();
      assertThat(calls("Apply")).isEqualTo(8);
      // remembered: the next batch goes straight to one call per op
      remote.applyAll(List.of(new Endpoint.Op(Endpoint.OpKind.MKDIR, "e1", null, Entry.directory(), null, null),
          new Endpoint.Op(Endpoint.OpKind.MKDIR, "e2", null, Entry.directory(), null, null)));
      assertThat(calls("Apply")).isEqualTo(10);
      assertThat(root.resolve("e2")).isDirectory();
    } finally {
      oldChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      oldServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    // gRPC answered the unknown method itself: it never reached the old host's service
    assertThat(calls("ApplyAll")).isZero();
  }
}
