package dev.thunderlink.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.proto.link.HandshakeRequest;
import dev.thunderlink.proto.link.HandshakeResponse;
import dev.thunderlink.proto.link.LinkGrpc;
import dev.thunderlink.proto.link.PingRequest;
import dev.thunderlink.proto.link.Role;
import dev.thunderlink.transport.testing.LinkFixture;
import dev.thunderlink.transport.testing.RawBytes;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The link server and pairing, run on every transport that loads here. */
class LinkServerTest {
  @TempDir Path dir;

  static Stream<TransportKind> transports() {
    return TransportFactory.availableKinds().stream();
  }

  @ParameterizedTest
  @MethodSource("transports")
  void pairsHandshakesAndPings(TransportKind kind) throws Exception {
    try (LinkFixture f = new LinkFixture(kind, dir).startHost().pair()) {
      assertThat(f.wsPeers.peers()).singleElement().satisfies(p -> {
        assertThat(p.fingerprint()).isEqualTo(f.hostId.fingerprint());
        assertThat(p.role()).isEqualTo("host");
      });
      assertThat(f.hostPeers.isPinned(f.wsId.fingerprint())).isTrue();
      PeerLink link = f.connect();
      assertThat(link.peer()).get().extracting(HandshakeResponse::getDeviceId).isEqualTo(f.hostId.deviceId());
      PeerLink.PingResult r = link.ping(null, 20, Duration.ZERO, 64);
      assertThat(r.rttNanos()).hasSize(20).allMatch(n -> n > 0);
      assertThat(f.codes.active(new StringBuilder())).as("a used code is consumed").isEmpty();
    }
  }

  @ParameterizedTest
  @MethodSource("transports")
  void garbageBytesAreRefusedAndTheRealPeerKeepsWorking(TransportKind kind) throws Exception {
    try (LinkFixture f = new LinkFixture(kind, dir).startHost().pair()) {
      PeerLink link = f.connect();
      try (Socket s = new Socket(f.hostAddress().getAddress(), f.hostAddress().getPort())) {
        s.getOutputStream().write(new byte[] {0x00, 0x7f, (byte) 0xff, 0x13, 0x37, 0x42, 0x01, 0x02, 0x03});
        s.getOutputStream().flush();
        s.setSoTimeout(5000);
        assertThat(s.getInputStream().read()).as("server closes the connection").isEqualTo(-1);
      }
      assertThat(link.ping(null, 3, Duration.ZERO, 0).rttNanos()).hasSize(3);
    }
  }

  @ParameterizedTest
  @MethodSource("transports")
  void plainHttpGetsAReadableRefusal(TransportKind kind) throws Exception {
    try (LinkFixture f = new LinkFixture(kind, dir).startHost().pair()) {
      try (Socket s = new Socket(f.hostAddress().getAddress(), f.hostAddress().getPort())) {
        s.setSoTimeout(5000);
        OutputStream out = s.getOutputStream();
        out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        String reply = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(reply).startsWith("HTTP/1.1 400").contains("thunderlink link port");
      }
      assertThat(f.connect().ping(null, 1, Duration.ZERO, 0).rttNanos()).hasSize(1);
    }
  }

  @ParameterizedTest
  @MethodSource("transports")
  void unpairedClientIsRefusedWithAClearMessage(TransportKind kind) throws Exception {
    try (LinkFixture f = new LinkFixture(kind, dir).startHost().pair()) {
      DeviceIdentity stranger = DeviceIdentity.loadOrCreate(dir.resolve("stranger"));
      ManagedChannel ch =
          LinkChannels.newChannel(
              f.hostAddress(),
              TlsContexts.grpcClient(stranger, fp -> fp.equals(f.hostId.fingerprint())),
              f.transport,
              f.workers,
              TuningProfile.defaults(PathKind.LOOPBACK));
      try {
        assertThatThrownBy(() -> LinkGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).ping(PingRequest.getDefaultInstance()))
            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
              assertThat(e.getStatus().getDescription()).contains("is not paired").contains(stranger.deviceId());
            });
      } finally {
        ch.shutdownNow();
      }
      assertThat(f.connect().ping(null, 1, Duration.ZERO, 0).rttNanos()).hasSize(1);
    }
  }

  @ParameterizedTest
  @MethodSource("transports")
  void workstationRefusesAnUnpinnedHost(TransportKind kind) throws Exception {
    try (LinkFixture f = new LinkFixture(kind, dir).startHost()) {
      // never paired: the workstation pins nothing, so the host's certificate is refused
      PeerLink link =
          f.track(
              PeerLink.builder()
                  .identity(f.wsId)
                  .peers(f.wsPeers)
                  .transport(f.transport, f.workers)
                  .addPath(new LinkPath("lo", f.hostAddress(), PathKind.LOOPBACK))
                  .build()
                  .start());
      assertThat(link.awaitActive(Duration.ofMillis(1500))).isFalse();
      assertThat(link.paths()).singleElement().satisfies(p -> assertThat(p.lastError()).isNotEmpty());
    }
  }

  @ParameterizedTest
  @MethodSource("transports")
  void wrongCodeFailsCleanlyAndTheCodeBurnsAfterThreeTries(TransportKind kind) throws Exception {
    try (LinkFixture f = new LinkFixture(kind, dir).startHost()) {
      PairingCodes.Issued code = f.codes.issue(Duration.ofMinutes(1));
      String wrong = code.code().startsWith("A") ? "BBBB-BBBB" : "AAAA-AAAA";
      for (int i = 0; i < PairingCodes.MAX_FAILURES; i++) {
        assertThatThrownBy(() -> PairingClient.pair(f.hostAddress(), wrong, f.wsId, f.wsPeers, f.transport, f.workers, 10_000))
            .isInstanceOf(PairingClient.PairingException.class)
            .hasMessage("wrong pairing code");
      }
      assertThatThrownBy(() -> PairingClient.pair(f.hostAddress(), code.code(), f.wsId, f.wsPeers, f.transport, f.workers, 10_000))
          .isInstanceOf(PairingClient.PairingException.class)
          .hasMessageContaining("no pairing code is active");
      assertThat(f.wsPeers.peers()).isEmpty();
      assertThat(f.hostPeers.peers()).isEmpty();
    }
  }

  @ParameterizedTest
  @MethodSource("transports")
  void malformedCodeIsRejectedBeforeConnecting(TransportKind kind) throws Exception {
    try (LinkFixture f = new LinkFixture(kind, dir).startHost()) {
      assertThatThrownBy(() -> PairingClient.pair(f.hostAddress(), "12", f.wsId, f.wsPeers, f.transport, f.workers, 10_000))
          .isInstanceOf(PairingClient.PairingException.class)
          .hasMessageContaining("expected: 8 letters or digits");
    }
  }

  /**
   * {@code thunderlink unpair} of the host on a running workstation: the link stayed up and the
   * mirror kept syncing, and after a reconnect the path said "General OpenSslEngine problem".
   * Now the path is refused at the next probe, saying why, and pairing again brings it back
   * (a refused path stayed refused until the daemon restarted). No sleeps: the retry interval is
   * short here, and the test waits for a retry to have happened.
   */
  @org.junit.jupiter.api.Test
  void unpairingTheHostCutsTheLinkAtOnceAndPairingAgainBringsItBack() throws Exception {
    try (LinkFixture f = new LinkFixture(TransportKind.NIO, dir).startHost().pair()) {
      PeerLink link = f.track(PeerLink.builder().identity(f.wsId).peers(f.wsPeers).transport(f.transport, f.workers)
          .addPath(new LinkPath("lo", f.hostAddress(), PathKind.LOOPBACK)).refusedRetry(Duration.ofMillis(300))
          .build().start());
      assertThat(link.awaitActive(Duration.ofSeconds(10))).as("%s", link.paths()).isTrue();
      PairedPeer host = f.wsPeers.peers().get(0);
      f.wsPeers.remove(host.deviceId());
      dev.thunderlink.transport.testing.Await.until(Duration.ofSeconds(5),
          () -> link.paths().get(0).state() == PathState.REFUSED, () -> "refused: " + link.paths());
      assertThat(link.activePath()).isEmpty();
      assertThat(link.paths().get(0).lastError()).contains("is no longer paired with this workstation")
          .contains(host.deviceId()).contains("thunderlink pair HOST CODE");
      // a retry (10 s on by default, 300 ms here) makes a new connection, whose TLS handshake
      // refuses the unpinned host: the reason stays the one above, not the TLS failure
      long retries = link.refusedRetries();
      dev.thunderlink.transport.testing.Await.until(Duration.ofSeconds(10), () -> link.refusedRetries() > retries,
          () -> "a retry of the refused path: " + link.paths());
      assertThat(link.paths().get(0).state()).isEqualTo(PathState.REFUSED);
      assertThat(link.paths().get(0).lastError()).contains("is no longer paired");
      f.wsPeers.put(host);
      assertThat(link.awaitActive(Duration.ofSeconds(10))).as("paired again: %s", link.paths()).isTrue();
      assertThat(link.ping(null, 1, Duration.ZERO, 0).rttNanos()).hasSize(1);
    }
  }

  @ParameterizedTest
  @MethodSource("transports")
  void incompatibleProtocolVersionIsRefusedNamingBoth(TransportKind kind) throws Exception {
    try (LinkFixture f = new LinkFixture(kind, dir).startHost().pair()) {
      ManagedChannel ch =
          LinkChannels.newChannel(
              f.hostAddress(),
              TlsContexts.grpcClient(f.wsId, f.wsPeers::isPinned),
              f.transport,
              f.workers,
              TuningProfile.defaults(PathKind.LOOPBACK));
      try {
        assertThatThrownBy(
                () ->
                    LinkGrpc.newBlockingStub(ch)
                        .withDeadlineAfter(5, TimeUnit.SECONDS)
                        .handshake(
                            HandshakeRequest.newBuilder()
                                .setProtocolVersion(99)
                                .setDaemonVersion("9.9.9")
                                .setRole(Role.ROLE_WORKSTATION)
                                .build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getStatus().getDescription())
                  .contains("protocol " + LinkVersion.PROTOCOL)
                  .contains("protocol 99 (thunderlink 9.9.9)");
            });
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @ParameterizedTest
  @MethodSource("transports")
  void expiredCodeSaysSo(TransportKind kind) throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    PairingCodes codes = new PairingCodes(clock);
    try (LinkFixture f = new LinkFixture(kind, dir)) {
      f.startHost(
          List.of(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0)),
          b -> b.pairingCodes(codes));
      PairingCodes.Issued code = codes.issue(Duration.ofMinutes(5));
      clock.now = clock.now.plus(Duration.ofMinutes(6));
      assertThatThrownBy(() -> PairingClient.pair(f.hostAddress(), code.code(), f.wsId, f.wsPeers, f.transport, f.workers, 10_000))
          .isInstanceOf(PairingClient.PairingException.class)
          .hasMessageContaining("expired");
    }
  }

  /** A clock tests move by hand. */
  static final class MutableClock extends Clock {
    volatile Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private static final MethodDescriptor<byte[], byte[]> WHERE_INLINE =
      RawBytes.method(MethodDescriptor.MethodType.UNARY, "test.Where/Inline");
  private static final MethodDescriptor<byte[], byte[]> WHERE_POOLED =
      RawBytes.method(MethodDescriptor.MethodType.UNARY, "test.Where/Pooled");

  private static final MethodDescriptor<byte[], byte[]> WHERE_THROWS =
      RawBytes.method(MethodDescriptor.MethodType.UNARY, "test.Where/Throws");

  /** Answers with the name of the thread that ran the handler; Throws throws on the pool. */
  private static BindableService where() {
    ServerCalls.UnaryMethod<byte[], byte[]> name = (req, out) -> {
      out.onNext(Thread.currentThread().getName().getBytes(StandardCharsets.UTF_8));
      out.onCompleted();
    };
    return () -> ServerServiceDefinition.builder("test.Where")
        .addMethod(WHERE_INLINE, ServerCalls.asyncUnaryCall(name))
        .addMethod(WHERE_POOLED, ServerCalls.asyncUnaryCall(name))
        .addMethod(WHERE_THROWS, ServerCalls.<byte[], byte[]>asyncUnaryCall((req, out) -> {
          throw new IllegalStateException("handler bug");
        }))
        .build();
  }

  @ParameterizedTest
  @MethodSource("transports")
  void inlineMethodsRunOnTheEventLoopAndOthersOnTheLinkCallPool(TransportKind kind) throws Exception {
    try (LinkFixture f = new LinkFixture(kind, dir)) {
      f.startHost(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
          b -> b.addService(where()).inline(Set.of(WHERE_INLINE.getFullMethodName())));
      f.pair();
      PeerLink link = f.connect();
      // many calls: with grpc-java's callExecutor an "inline" call ran on the pool whenever its
      // request arrived while the pool thread was still looking the method up (CI saw it once)
      for (int i = 0; i < 50; i++) {
        String inline = new String(ClientCalls.blockingUnaryCall(link.channel(), WHERE_INLINE,
            CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[0]), StandardCharsets.UTF_8);
        String pooled = new String(ClientCalls.blockingUnaryCall(link.channel(), WHERE_POOLED,
            CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[0]), StandardCharsets.UTF_8);
        assertThat(inline).as("call %d: the host's event loops are the fixture's 'test-io' group", i).startsWith("test-io");
        assertThat(pooled).as("call %d", i).startsWith("thunderlink-link-call-");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("transports")
  void aPooledHandlerThatThrowsClosesItsCallAtOnceAndTheServerGoesOn(TransportKind kind) throws Exception {
    try (LinkFixture f = new LinkFixture(kind, dir)) {
      f.startHost(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)), b -> b.addService(where()));
      f.pair();
      PeerLink link = f.connect();
      // the deadline is far: the client must hear UNKNOWN from the server, not time out
      assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(link.channel(), WHERE_THROWS,
              CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), new byte[0]))
          .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNKNOWN));
      assertThat(new String(ClientCalls.blockingUnaryCall(link.channel(), WHERE_POOLED,
              CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[0]), StandardCharsets.UTF_8))
          .startsWith("thunderlink-link-call-");
    }
  }

  @org.junit.jupiter.api.Test
  void inlineNeedsFullMethodNames() {
    assertThatThrownBy(() -> LinkServer.builder().inline(Set.of("Chat")))
        .hasMessage("inline: Chat (expected: a full method name, package.Service/Method)");
  }
}
