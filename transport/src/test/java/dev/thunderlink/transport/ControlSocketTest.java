package dev.thunderlink.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.thunderlink.proto.cpcontrol.CopyEvent;
import dev.thunderlink.proto.cpcontrol.CopyRequest;
import dev.thunderlink.proto.cpcontrol.CpControlGrpc;
import dev.thunderlink.proto.cpcontrol.Done;
import dev.thunderlink.proto.link.LinkGrpc;
import dev.thunderlink.proto.link.PingRequest;
import dev.thunderlink.proto.link.PingResponse;
import dev.thunderlink.transport.internal.ControlFrames;
import dev.thunderlink.transport.internal.ControlSocketChannel;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control socket: the generated stubs over {@code HOME/control.sock} behave as over the TCP
 * endpoint (unary, server streaming, status and trailers, deadlines, cancellation reaching the
 * daemon's {@link Context}), bad frames get a status and leave the daemon serving, and a home
 * without the socket falls back to TCP.
 */
class ControlSocketTest {
  private static final Metadata.Key<String> WHY = Metadata.Key.of("why", Metadata.ASCII_STRING_MARSHALLER);
  private static final long FAIL = -1;
  private static final long HANG = -2;
  private static final int EVENTS = 2000;

  @TempDir Path home;
  private EventLoopGroup group;
  private LocalControlServer server;
  /** Counted down when a hanging call's server Context is cancelled. */
  private final CountDownLatch serverCancelled = new CountDownLatch(1);
  /** Counted down when a hanging call has started on the server. */
  private final CountDownLatch serverStarted = new CountDownLatch(1);

  @BeforeEach
  void start() throws Exception {
    TransportFactory tf = TransportFactory.auto();
    group = tf.newGroup(1, "test-control-socket");
    LinkGrpc.LinkImplBase link =
        new LinkGrpc.LinkImplBase() {
          @Override
          public void ping(PingRequest r, StreamObserver<PingResponse> out) {
            if (r.getSequence() == FAIL) {
              Metadata t = new Metadata();
              t.put(WHY, "asked to");
              out.onError(Status.FAILED_PRECONDITION.withDescription("the peer is not paired").asRuntimeException(t));
            } else if (r.getSequence() == HANG) {
              hang();
            } else {
              out.onNext(PingResponse.newBuilder().setSequence(r.getSequence()).setPayload(r.getPayload()).build());
              out.onCompleted();
            }
          }
        };
    CpControlGrpc.CpControlImplBase cp =
        new CpControlGrpc.CpControlImplBase() {
          @Override
          public void copy(CopyRequest r, StreamObserver<CopyEvent> out) {
            if (r.getDestination().equals("hang")) {
              out.onNext(CopyEvent.newBuilder().setBytes(1).build());
              hang();
              return;
            }
            for (int i = 1; i <= EVENTS; i++) {
              out.onNext(CopyEvent.newBuilder().setBytes(i).build());
            }
            out.onNext(CopyEvent.newBuilder().setDone(Done.newBuilder().setOk(true).setOutput("copied")).build());
            out.onCompleted();
          }
        };
    server = new LocalControlServer(home, 0, "workstation", List.of(link.bindService(), cp.bindService()), tf, group, group).start();
  }

  /** Blocks the handler until its call's Context is cancelled (by the client, or its deadline). */
  private void hang() {
    Context.current().addListener(c -> serverCancelled.countDown(), Runnable::run);
    serverStarted.countDown();
  }

  @AfterEach
  void stop() {
    server.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static PingRequest ping(long sequence) {
    return PingRequest.newBuilder().setSequence(sequence).build();
  }

  @Test
  void commandsTalkOverTheOwnerOnlySocketNamedInTheControlFile() throws Exception {
    Path sock = home.resolve("control.sock");
    assertThat(Files.getPosixFilePermissions(sock)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.readString(home.resolve("control.json"))).contains("\"socket\":\"" + sock + "\"");
    try (LocalControlServer.Connection c = LocalControlServer.connect(home)) {
      assertThat(c.channel()).isInstanceOf(ControlSocketChannel.class);
      ByteString payload = ByteString.copyFrom(new byte[3 * 1024 * 1024 + 7]);
      PingResponse r = LinkGrpc.newBlockingStub(c.channel()).ping(ping(7).toBuilder().setPayload(payload).build());
      assertThat(r.getSequence()).isEqualTo(7);
      assertThat(r.getPayload()).isEqualTo(payload);
    }
    server.close();
    assertThat(sock).as("removed on close").doesNotExist();
  }

  @Test
  void serverStreamingDeliversEveryEventInOrder() throws Exception {
    try (LocalControlServer.Connection c = LocalControlServer.connect(home)) {
      Iterator<CopyEvent> events = CpControlGrpc.newBlockingStub(c.channel()).copy(CopyRequest.getDefaultInstance());
      for (int i = 1; i <= EVENTS; i++) {
        assertThat(events.next().getBytes()).isEqualTo(i);
      }
      assertThat(events.next().getDone().getOutput()).isEqualTo("copied");
      assertThat(events.hasNext()).isFalse();
    }
  }

  @Test
  void errorsArriveWithTheirStatusDescriptionAndTrailers() throws Exception {
    try (LocalControlServer.Connection c = LocalControlServer.connect(home)) {
      assertThatThrownBy(() -> LinkGrpc.newBlockingStub(c.channel()).ping(ping(FAIL)))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(e.getStatus().getDescription()).isEqualTo("the peer is not paired");
            assertThat(e.getTrailers().get(WHY)).isEqualTo("asked to");
          });
      // a method the daemon does not serve: as an older daemon over TCP would answer
      assertThatThrownBy(() -> dev.thunderlink.proto.control.ControlGrpc.newBlockingStub(c.channel())
              .status(dev.thunderlink.proto.control.StatusRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
    }
  }

  @Test
  void aDeadlineEndsTheCallOnBothSides() throws Exception {
    try (LocalControlServer.Connection c = LocalControlServer.connect(home)) {
      assertThatThrownBy(() -> LinkGrpc.newBlockingStub(c.channel()).withDeadlineAfter(300, TimeUnit.MILLISECONDS).ping(ping(HANG)))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
      assertThat(serverCancelled.await(10, TimeUnit.SECONDS)).as("the daemon's Context cancelled").isTrue();
    }
  }

  @Test
  void cancellingTheCallsContextCancelsTheDaemonsContext() throws Exception {
    try (LocalControlServer.Connection c = LocalControlServer.connect(home)) {
      Context.CancellableContext ctx = Context.current().withCancellation();
      Iterator<CopyEvent> events = ctx.call(() -> CpControlGrpc.newBlockingStub(c.channel()).copy(CopyRequest.newBuilder().setDestination("hang").build()));
      assertThat(events.next().getBytes()).isEqualTo(1);
      assertThat(serverStarted.await(10, TimeUnit.SECONDS)).isTrue();
      ctx.cancel(null);
      assertThat(serverCancelled.await(10, TimeUnit.SECONDS)).as("the daemon's Context cancelled").isTrue();
      assertThatThrownBy(events::hasNext)
          .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.CANCELLED));
    }
  }

  @Test
  void closingTheConnectionCancelsTheDaemonsCallAsCtrlCInCpDoes() throws Exception {
    LocalControlServer.Connection c = LocalControlServer.connect(home);
    Iterator<CopyEvent> events = CpControlGrpc.newBlockingStub(c.channel()).copy(CopyRequest.newBuilder().setDestination("hang").build());
    assertThat(events.next().getBytes()).isEqualTo(1);
    assertThat(serverStarted.await(10, TimeUnit.SECONDS)).isTrue();
    c.close(); // what cp's shutdown hook does
    assertThat(c.channel().isTerminated()).isTrue();
    assertThat(serverCancelled.await(10, TimeUnit.SECONDS)).as("the daemon's Context cancelled").isTrue();
    assertThatThrownBy(events::hasNext).isInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void aWrongOrMissingTokenIsRefusedWithWhereToFindIt() throws Exception {
    Metadata wrong = new Metadata();
    wrong.put(LocalControlServer.AUTHORIZATION, "Bearer 00");
    for (Metadata md : List.of(wrong, new Metadata())) {
      ControlSocketChannel ch = new ControlSocketChannel(home.resolve("control.sock"), md);
      try {
        assertThatThrownBy(() -> LinkGrpc.newBlockingStub(ch).ping(ping(1)))
            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
              assertThat(e.getStatus().getDescription()).contains("control token").contains("control.json");
            });
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void malformedAndOversizedFramesGetAStatusAndTheDaemonKeepsServing() throws Exception {
    assertThat(rawCall(frame(9, new byte[3])))
        .isEqualTo("INTERNAL: malformed control frame: unknown frame type 9");
    assertThat(rawCall(ByteBuffer.allocate(5).put(ControlFrames.MESSAGE).putInt(Integer.MAX_VALUE).flip()))
        .isEqualTo("RESOURCE_EXHAUSTED: control frame too large: 2147483647 bytes (expected: <= " + ControlFrames.MAX_PAYLOAD + ")");
    assertThat(rawCall(frame(ControlFrames.HEADERS, new byte[] {0, 0, 0, 100, 'x'})))
        .isEqualTo("INTERNAL: malformed control frame: a field of 100 bytes (expected: 0 to 1)");
    assertThat(rawCall(frame(ControlFrames.MESSAGE, new byte[1])))
        .isEqualTo("INTERNAL: malformed control frame: a call must start with its headers, not frame type 2");
    try (LocalControlServer.Connection c = LocalControlServer.connect(home)) {
      assertThat(LinkGrpc.newBlockingStub(c.channel()).ping(ping(3)).getSequence()).isEqualTo(3);
    }
  }

  private static ByteBuffer frame(int type, byte[] payload) {
    return ByteBuffer.allocate(5 + payload.length).put((byte) type).putInt(payload.length).put(payload).flip();
  }

  /** Sends raw bytes as a call; the status ("CODE: description") of the trailers the daemon answers with. */
  private String rawCall(ByteBuffer bytes) throws Exception {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(home.resolve("control.sock")));
      while (bytes.hasRemaining()) {
        ch.write(bytes);
      }
      ControlFrames.Frame f = ControlFrames.read(ch);
      assertThat(f.type()).isEqualTo(ControlFrames.TRAILERS);
      assertThat(ControlFrames.read(ch)).as("then the daemon closes").isNull();
      Status s = ControlFrames.CallEnd.decode(f.payload()).status();
      return s.getCode() + ": " + s.getDescription();
    }
  }

  /** What a command does: one call to its daemon (run in a JVM of its own by the test below). */
  public static final class OneCall {
    public static void main(String[] args) throws Exception {
      try (LocalControlServer.Connection c = LocalControlServer.connect(Path.of(args[0]))) {
        System.out.println(LinkGrpc.newBlockingStub(c.channel()).ping(ping(11)).getSequence());
      }
    }
  }

  @Test
  void aCommandsCallLoadsNoNettyNoGrpcTransportAndNoLogback() throws Exception {
    Path classes = home.resolve("classes.log");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:off",
                "-Xlog:class+load=info:file=" + classes,
                "-cp", System.getProperty("java.class.path"),
                OneCall.class.getName(), home.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    assertThat(out.strip()).isEqualTo("11");
    List<String> loaded = Files.readAllLines(classes);
    assertThat(loaded).as("the call ran").anyMatch(l -> l.contains(" " + ControlSocketChannel.class.getName() + " "));
    assertThat(loaded).noneMatch(l -> l.matches(".* (io\\.netty|io\\.grpc\\.netty|io\\.grpc\\.internal|ch\\.qos\\.logback)\\..*"));
  }

  @Test
  void withoutTheSocketCommandsFallBackToTcp() throws Exception {
    Files.delete(home.resolve("control.sock")); // as for a daemon that could not make one
    try (LocalControlServer.Connection c = LocalControlServer.connect(home)) {
      assertThat(c.channel()).isNotInstanceOf(ControlSocketChannel.class);
      assertThat(LinkGrpc.newBlockingStub(c.channel()).ping(ping(5)).getSequence()).isEqualTo(5);
    }
  }
}
