package dev.thunderlink.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.proto.sync.ApplyRequest;
import dev.thunderlink.proto.sync.Entry;
import dev.thunderlink.proto.sync.EntryKind;
import dev.thunderlink.proto.sync.OpenRequest;
import dev.thunderlink.proto.sync.SyncEndpointGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A workstation session and a host service talking over a real grpc-netty server on 127.0.0.1. */
class SyncOverGrpcTest {
  @TempDir
  Path tmp;

  private Server server;
  private SyncHostService host;
  private ManagedChannel channel;
  private int port;
  private Path a;
  private Path b;

  @BeforeEach
  void setUp() throws IOException {
    a = Files.createDirectories(tmp.resolve("a"));
    b = tmp.resolve("b");
    // not 0: sessionRecoversWhenTheHostRestarts binds this port again after closing it
    startHost(TestPorts.pick());
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  private void startHost(int p) throws IOException {
    host = new SyncHostService(tmp.resolve("host-state"), "mini", true, Duration.ofMillis(10));
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", p)).addService(host).build().start();
    port = server.getPort();
  }

  private void stopHost() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
    host.close();
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    stopHost();
  }

  private SyncSessionConfig.Builder config() {
    return SyncSessionConfig.builder("proj").localRoot(a).remoteRoot(b.toString()).stateDir(tmp.resolve("ws-state"))
        .deviceName("book").blockSize(64 * 1024);
  }

  /** {@code channel}, counting its calls by method name into {@code calls}. */
  private static io.grpc.Channel counting(io.grpc.Channel channel,
      java.util.Map<String, java.util.concurrent.atomic.AtomicInteger> calls) {
    return io.grpc.ClientInterceptors.intercept(channel, new io.grpc.ClientInterceptor() {
      @Override
      public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> method,
          io.grpc.CallOptions options, io.grpc.Channel next) {
        calls.computeIfAbsent(method.getBareMethodName(), k -> new java.util.concurrent.atomic.AtomicInteger())
            .incrementAndGet();
        return next.newCall(method, options);
      }
    });
  }

  private static void await(String what, BooleanSupplier condition) {
    // polls, not spins: on a loaded 2-core machine a spinning test thread takes the CPU the
    // watcher, session and host threads it waits for need; the deadline is generous because
    // a watcher-driven round trip under CI load is not what this test measures
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  private static boolean hasContent(Path p, String content) {
    try {
      return Files.isRegularFile(p) && new String(Files.readAllBytes(p), UTF_8).equals(content);
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void twoSessionsConvergeOverLoopbackGrpcWithBlockDeltas() throws Exception {
    try (SyncSession s = SyncSession.start(config().watch(false).build(), channel)) {
      Files.write(a.resolve("hello.txt"), "from book".getBytes(UTF_8));
      byte[] big = new byte[2 * 1024 * 1024];
      new Random(3).nextBytes(big);
      Files.write(a.resolve("big.bin"), big);
      Files.createDirectories(b.resolve("from-mini"));
      Files.write(b.resolve("from-mini/x.txt"), "from mini".getBytes(UTF_8));
      s.flush(Duration.ofSeconds(30));
      assertThat(SyncPair.tree(a)).isEqualTo(SyncPair.tree(b)).containsEntry("from-mini/x.txt", "from mini");

      long sent = s.status().bytesSent();
      big[123_456] ^= 0x55;
      Files.write(a.resolve("big.bin"), big);
      s.flush(Duration.ofSeconds(30));
      assertThat(Arrays.equals(Files.readAllBytes(b.resolve("big.bin")), big)).isTrue();
      assertThat(s.status().bytesSent() - sent).isEqualTo(64 * 1024);

      // and the other way: the host's file changes by one byte, only one block travels back
      sent = s.status().bytesSent();
      big[1_900_000] ^= 0x11;
      // written aside and renamed in, as editors save: the host watches its tree, and a rescan
      // between Files.write's truncate and its last byte would rightly mirror the half-written
      // file first, after which the whole file travels (seen under load, 6 of 30 runs)
      Path aside = Files.write(tmp.resolve("big.bin.new"), big);
      Files.move(aside, b.resolve("big.bin"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      s.flush(Duration.ofSeconds(30));
      assertThat(Arrays.equals(Files.readAllBytes(a.resolve("big.bin")), big)).isTrue();
      assertThat(s.status().bytesSent() - sent).isEqualTo(64 * 1024);
    }
  }

  @Test
  void aPlansDirectoriesAndDeletionsTravelInFewBatchedCalls() throws Exception {
    java.util.Map<String, java.util.concurrent.atomic.AtomicInteger> calls = new java.util.concurrent.ConcurrentHashMap<>();
    io.grpc.Channel counted = counting(channel, calls);
    for (int i = 0; i < 40; i++) {
      Files.createDirectories(a.resolve("d" + i + "/sub"));
    }
    try (SyncSession s = SyncSession.start(config().watch(false).build(), counted)) {
      s.flush(Duration.ofSeconds(30));
      assertThat(SyncPair.tree(b)).isEqualTo(SyncPair.tree(a));
      for (int i = 0; i < 40; i++) {
        assertThat(b.resolve("d" + i + "/sub")).isDirectory();
      }
      // one call per depth, where it was one per directory
      assertThat(calls.get("ApplyAll").get()).isEqualTo(2);
      assertThat(calls).doesNotContainKey("Apply");

      for (int i = 0; i < 10; i++) { // under the mass-deletion safety stop
        Files.delete(a.resolve("d" + i + "/sub"));
      }
      s.flush(Duration.ofSeconds(30));
      assertThat(b.resolve("d7/sub")).doesNotExist();
      assertThat(calls.get("ApplyAll").get()).isEqualTo(3);
      assertThat(calls).doesNotContainKey("Apply");
    }
  }

  /**
   * A small host edit crosses with its content in the host's changes answer, with no ReadFiles
   * call after it (a round trip less per host edit); a file above the inline size is still read
   * by the call.
   */
  @Test
  void aSmallHostEditCrossesInTheChangesAnswerWithoutAReadFilesCall() throws Exception {
    java.util.Map<String, java.util.concurrent.atomic.AtomicInteger> calls = new java.util.concurrent.ConcurrentHashMap<>();
    io.grpc.Channel counted = counting(channel, calls);
    Files.write(a.resolve("keep.txt"), "k".getBytes(UTF_8));
    try (SyncSession s = SyncSession.start(config().watch(false).blockSize(1 << 20).build(), counted)) {
      s.flush(Duration.ofSeconds(30));
      assertThat(calls).doesNotContainKey("ReadFiles");
      Files.createDirectories(b.resolve("src"));
      Files.write(b.resolve("src/edit.txt"), "from the host".getBytes(UTF_8));
      s.flush(Duration.ofSeconds(30));
      assertThat(SyncPair.tree(a)).isEqualTo(SyncPair.tree(b)).containsEntry("src/edit.txt", "from the host");
      assertThat(calls).as("the content came with the changes").doesNotContainKey("ReadFiles");

      byte[] big = new byte[100 << 10]; // above the 64 KiB a changes answer carries of a file
      new Random(7).nextBytes(big);
      Files.write(b.resolve("big.bin"), big);
      Files.write(b.resolve("src/edit.txt"), "again".getBytes(UTF_8));
      s.flush(Duration.ofSeconds(30));
      assertThat(Files.readAllBytes(a.resolve("big.bin"))).isEqualTo(big);
      assertThat(SyncPair.tree(a)).containsEntry("src/edit.txt", "again");
      assertThat(calls.get("ReadFiles").get()).as("for big.bin only").isEqualTo(1);
    }
  }

  /**
   * Content in a host's changes answer that is not the file's (a host that sent the wrong bytes,
   * of the right size) is refused by the writer's hash check and read again by ReadFiles: the
   * workstation's copy is never the wrong bytes, and the session settles.
   */
  @Test
  void contentInTheChangesAnswerThatIsNotTheFilesIsRefusedAndReadAgain() throws Exception {
    java.util.concurrent.atomic.AtomicInteger tampered = new java.util.concurrent.atomic.AtomicInteger();
    io.grpc.ServerInterceptor tamper = new io.grpc.ServerInterceptor() {
      @Override
      public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, io.grpc.Metadata headers,
          io.grpc.ServerCallHandler<Q, R> next) {
        return next.startCall(new io.grpc.ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          @SuppressWarnings("unchecked")
          public void sendMessage(R message) {
            if (message instanceof dev.thunderlink.proto.sync.ChangesBatch b && b.getInlineCount() > 0) {
              dev.thunderlink.proto.sync.ChangesBatch.Builder x = b.toBuilder();
              for (int i = 0; i < x.getInlineCount(); i++) {
                byte[] wrong = x.getInline(i).getData().toByteArray();
                Arrays.fill(wrong, (byte) 'X');
                x.setInline(i, x.getInline(i).toBuilder().setData(com.google.protobuf.ByteString.copyFrom(wrong)));
                tampered.incrementAndGet();
              }
              message = (R) x.build();
            }
            super.sendMessage(message);
          }
        }, headers);
      }
    };
    Server bad = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(io.grpc.ServerInterceptors.intercept(host, tamper)).build().start();
    ManagedChannel toBad = NettyChannelBuilder.forAddress("127.0.0.1", bad.getPort()).usePlaintext().build();
    try (SyncSession s = SyncSession.start(config().watch(false).build(), toBad)) {
      s.flush(Duration.ofSeconds(30));
      Files.createDirectories(b);
      Files.write(b.resolve("edit.txt"), "from the host".getBytes(UTF_8));
      s.flush(Duration.ofSeconds(30));
      assertThat(tampered.get()).as("the answer carried the content, and it was spoiled").isPositive();
      assertThat(SyncPair.tree(a)).isEqualTo(SyncPair.tree(b)).containsEntry("edit.txt", "from the host");
      assertThat(s.status().errors()).isEmpty();
    } finally {
      toBad.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      bad.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void watchersPropagateEditsWithoutFlush() throws Exception {
    try (SyncSession s = SyncSession.start(config().build(), channel)) {
      s.flush(Duration.ofSeconds(30));
      Files.write(a.resolve("w.txt"), "one".getBytes(UTF_8));
      await("book -> mini", () -> hasContent(b.resolve("w.txt"), "one"));
      Files.write(b.resolve("w.txt"), "two".getBytes(UTF_8));
      await("mini -> book", () -> hasContent(a.resolve("w.txt"), "two"));
    }
  }

  @Test
  void sessionRecoversWhenTheHostRestarts() throws Exception {
    try (SyncSession s = SyncSession.start(config().watch(false).build(), channel)) {
      Files.write(a.resolve("1.txt"), "1".getBytes(UTF_8));
      s.flush(Duration.ofSeconds(30));
      stopHost();
      Files.write(a.resolve("2.txt"), "2".getBytes(UTF_8));
      assertThatThrownBy(() -> s.flush(Duration.ofMillis(300))).isInstanceOf(java.util.concurrent.TimeoutException.class)
          .hasMessageContaining("flush did not finish");
      startHost(port);
      s.flush(Duration.ofSeconds(30));
      assertThat(SyncPair.tree(b)).containsEntry("1.txt", "1").containsEntry("2.txt", "2");
    }
  }

  @Test
  void hostRejectsBadRequestsWithOneLineErrors() throws Exception {
    var stub = SyncEndpointGrpc.newBlockingStub(channel);
    assertThatThrownBy(() -> stub.open(OpenRequest.newBuilder().setSession("s").setRoot("relative/path").build()))
        .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INVALID_ARGUMENT")
        .hasMessageContaining("expected: an absolute path");
    assertThatThrownBy(() -> stub.open(OpenRequest.newBuilder().setSession("s").setRoot(b.toString())
        .addIgnorePatterns("").build())).hasMessageContaining("expected: a non-empty .gitignore pattern");
    stub.open(OpenRequest.newBuilder().setSession("s").setRoot(b.toString()).setCreateRoot(true).build());
    assertThatThrownBy(() -> stub.apply(ApplyRequest.newBuilder().setEndpointId("s").setOp(ApplyRequest.Op.DELETE)
        .setExpected(Entry.newBuilder().setPath("../escape").setKind(EntryKind.FILE)).build()))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("no empty, '.' or '..' segments");
    assertThatThrownBy(() -> stub.apply(ApplyRequest.newBuilder().setEndpointId("nope").setOp(ApplyRequest.Op.MKDIR)
        .setExpected(Entry.newBuilder().setPath("x")).build())).hasMessageContaining("NOT_FOUND");
    assertThatThrownBy(() -> stub.writeFiles(dev.thunderlink.proto.sync.WriteFilesRequest.newBuilder()
        .setEndpointId("s").addFiles(dev.thunderlink.proto.sync.WholeFile.newBuilder()
            .setTarget(Entry.newBuilder().setPath("../escape").setKind(EntryKind.FILE)
                .setHash(com.google.protobuf.ByteString.copyFrom(new byte[32])))).build()))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("no empty, '.' or '..' segments");
    assertThatThrownBy(() -> stub.writeFiles(dev.thunderlink.proto.sync.WriteFilesRequest.newBuilder()
        .setEndpointId("s").addFiles(dev.thunderlink.proto.sync.WholeFile.newBuilder()
            .setTarget(Entry.newBuilder().setPath("d").setKind(EntryKind.DIRECTORY))).build()))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("expected: a file");
    assertThatThrownBy(() -> stub.readFiles(dev.thunderlink.proto.sync.ReadFilesRequest.newBuilder()
        .setEndpointId("s").addPaths("a.txt").build()))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("expected: one hash per path");
    assertThat(badBasis()).contains("INVALID_ARGUMENT").contains("basis blocks: 0+-5");
  }

  /** A write whose basis instruction names a negative block count: the host answers with one line. */
  private String badBasis() throws Exception {
    java.util.concurrent.CompletableFuture<String> error = new java.util.concurrent.CompletableFuture<>();
    var requests = SyncEndpointGrpc.newStub(channel).write(new io.grpc.stub.StreamObserver<>() {
      @Override
      public void onNext(dev.thunderlink.proto.sync.ApplyResponse value) {
        error.complete("answered " + value.getOutcome());
      }

      @Override
      public void onError(Throwable t) {
        error.complete(t.getMessage());
      }

      @Override
      public void onCompleted() {}
    });
    requests.onNext(dev.thunderlink.proto.sync.WriteMessage.newBuilder().setHeader(
        dev.thunderlink.proto.sync.WriteHeader.newBuilder().setEndpointId("s").setBlockSize(4096)
            .setTarget(Entry.newBuilder().setPath("f.bin").setKind(EntryKind.FILE)
                .setHash(com.google.protobuf.ByteString.copyFrom(new byte[32])).setSize(10))).build());
    requests.onNext(dev.thunderlink.proto.sync.WriteMessage.newBuilder().setBasis(
        dev.thunderlink.proto.sync.WriteBasis.newBuilder().setBlockIndex(0).setBlockCount(-5)).build());
    String message = error.get(10, TimeUnit.SECONDS);
    requests.onCompleted();
    return message;
  }
}
