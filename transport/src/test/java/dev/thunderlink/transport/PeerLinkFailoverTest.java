package dev.thunderlink.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.proto.link.LinkGrpc;
import dev.thunderlink.proto.link.PingRequest;
import dev.thunderlink.transport.emulator.LinkEmulator;
import dev.thunderlink.transport.emulator.LinkProfile;
import dev.thunderlink.transport.testing.Await;
import dev.thunderlink.transport.testing.LinkFixture;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Failover between two paths to one host, each through a link emulator standing for a
 * cable: cutting one stops forwarding without closing anything, as a pulled cable does.
 */
class PeerLinkFailoverTest {
  @TempDir Path dir;

  static Stream<TransportKind> transports() {
    return TransportFactory.availableKinds().stream();
  }

  @ParameterizedTest
  @MethodSource("transports")
  void failsOverWithinTwoSecondsAndMovesBack(TransportKind kind) throws Exception {
    InetAddress a = InetAddress.getByName("127.0.0.6");
    InetAddress b = InetAddress.getByName("127.0.0.7");
    try (LinkFixture f = new LinkFixture(kind, dir)) {
      f.startHost(List.of(new InetSocketAddress(a, 0)), x -> {});
      f.pair();
      try (LinkEmulator tb = LinkEmulator.start(LinkProfile.THUNDERBOLT, new InetSocketAddress(b, 0), f.hostAddress());
          LinkEmulator wifi = LinkEmulator.start(LinkProfile.WIFI, new InetSocketAddress(b, 0), f.hostAddress())) {
        List<PeerLink.PathChange> changes = new CopyOnWriteArrayList<>();
        PeerLink link =
            f.track(
                PeerLink.builder()
                    .identity(f.wsId)
                    .peers(f.wsPeers)
                    .transport(f.transport, f.workers)
                    .addPath(new LinkPath("tb", tb.localAddress(), PathKind.THUNDERBOLT))
                    .addPath(new LinkPath("wifi", wifi.localAddress(), PathKind.WIFI))
                    .listener(changes::add)
                    .build()
                    .start());
        Await.until(Duration.ofSeconds(10), () -> link.activePath().orElse("").equals("tb")
            && link.paths().stream().allMatch(p -> p.state() == PathState.UP), () -> String.valueOf(link.paths()));

        // a call in flight on the cable when it is pulled fails fast instead of hanging
        long t0 = System.nanoTime();
        tb.cut();
        Await.until(Duration.ofSeconds(5), () -> link.activePath().orElse("").equals("wifi"), () -> String.valueOf(link.paths()));
        long failover = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(failover).as("failover time on " + kind).isLessThan(2000);
        assertThat(link.paths()).filteredOn(p -> p.path().name().equals("tb")).singleElement()
            .satisfies(p -> assertThat(p.state()).isEqualTo(PathState.DOWN));

        // new calls go over Wi-Fi through the same routing channel
        LinkGrpc.newBlockingStub(link.channel()).withDeadlineAfter(2, TimeUnit.SECONDS).ping(PingRequest.getDefaultInstance());

        tb.restore();
        Await.until(Duration.ofSeconds(10), () -> link.activePath().orElse("").equals("tb"), () -> String.valueOf(link.paths()));
        // listeners are told on the monitor thread, just after the switch
        Await.until(Duration.ofSeconds(2), () -> changes.size() >= 3, changes::toString);
        assertThat(changes).extracting(PeerLink.PathChange::to).containsSubsequence("tb", "wifi", "tb");
        System.out.println(kind + ": failover " + failover + " ms");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("transports")
  void callsFailWithUnavailableNamingThePathsWhenNoneIsUp(TransportKind kind) throws Exception {
    try (LinkFixture f = new LinkFixture(kind, dir)) {
      f.startHost();
      f.pair();
      try (LinkEmulator only = LinkEmulator.start(LinkProfile.THUNDERBOLT, new InetSocketAddress("127.0.0.8", 0), f.hostAddress())) {
        PeerLink link =
            f.track(
                PeerLink.builder()
                    .identity(f.wsId)
                    .peers(f.wsPeers)
                    .transport(f.transport, f.workers)
                    .addPath(new LinkPath("tb", only.localAddress(), PathKind.THUNDERBOLT))
                    .build()
                    .start());
        assertThat(link.awaitActive(Duration.ofSeconds(10))).isTrue();
        only.cut();
        Await.until(Duration.ofSeconds(5), () -> link.activePath().isEmpty(), () -> String.valueOf(link.paths()));
        try {
          LinkGrpc.newBlockingStub(link.channel()).withDeadlineAfter(2, TimeUnit.SECONDS).ping(PingRequest.getDefaultInstance());
          throw new AssertionError("expected UNAVAILABLE");
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).contains("no path to the host is up").contains("tb: down");
        }
        only.restore();
        assertThat(link.awaitActive(Duration.ofSeconds(10))).isTrue();
      }
    }
  }
}
