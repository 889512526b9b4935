package dev.thunderlink.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.transport.emulator.LinkEmulator;
import dev.thunderlink.transport.emulator.LinkProfile;
import dev.thunderlink.transport.testing.Await;
import dev.thunderlink.transport.testing.RawBytes;
import dev.thunderlink.transport.testing.LinkFixture;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A path that is busy delivering a large stream is not declared down because its probe answers
 * queue behind the data: the host floods a slow emulated link (16 Mbit/s) with a server stream
 * for a few seconds, long enough for three probes to miss their deadline; the path must stay
 * up and the stream finish. (A pulled cable, which delivers nothing, still fails over in about
 * a second: {@link PeerLinkFailoverTest}.)
 */
class PeerLinkBusyPathTest {
  @TempDir Path dir;

  private static final MethodDescriptor<byte[], byte[]> FLOOD =
      RawBytes.method(MethodDescriptor.MethodType.SERVER_STREAMING, "test.Flood/Flood");

  /** Sends 32 KiB messages, as fast as flow control allows, for as long as the request says. */
  private static BindableService flood() {
    return () -> ServerServiceDefinition.builder("test.Flood")
        .addMethod(FLOOD, ServerCalls.asyncServerStreamingCall((byte[] req, StreamObserver<byte[]> out) -> {
          ServerCallStreamObserver<byte[]> o = (ServerCallStreamObserver<byte[]>) out;
          long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(req.length * 100L);
          byte[] chunk = new byte[32 * 1024];
          boolean[] done = {false};
          o.setOnReadyHandler(() -> {
            while (!done[0] && o.isReady()) {
              if (System.nanoTime() - until > 0) {
                done[0] = true;
                o.onCompleted();
                return;
              }
              o.onNext(chunk);
            }
          });
        }))
        .build();
  }

  @Test
  void aPathBusyDeliveringDataStaysUpWhileItsProbesAreLate() throws Exception {
    TransportKind kind = TransportFactory.availableKinds().get(0);
    try (LinkFixture f = new LinkFixture(kind, dir)) {
      f.startHost(flood());
      f.pair();
      LinkProfile slow = LinkProfile.custom(16_000_000, Duration.ZERO, Duration.ZERO);
      try (LinkEmulator cable = LinkEmulator.start(slow, new InetSocketAddress("127.0.0.9", 0), f.hostAddress())) {
        List<PeerLink.PathChange> changes = new CopyOnWriteArrayList<>();
        PeerLink link = f.track(PeerLink.builder()
            .identity(f.wsId)
            .peers(f.wsPeers)
            .transport(f.transport, f.workers)
            .addPath(new LinkPath("tb", cable.localAddress(), PathKind.THUNDERBOLT))
            .listener(changes::add)
            .build()
            .start());
        assertThat(link.awaitActive(Duration.ofSeconds(10))).isTrue();
        changes.clear();

        AtomicLong received = new AtomicLong();
        CompletableFuture<Void> finished = new CompletableFuture<>();
        ClientCalls.asyncServerStreamingCall(link.channel().newCall(FLOOD, CallOptions.DEFAULT),
            new byte[30], // 3 s of flooding
            new StreamObserver<byte[]>() {
              @Override
              public void onNext(byte[] value) {
                received.addAndGet(value.length);
              }

              @Override
              public void onError(Throwable t) {
                finished.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                finished.complete(null);
              }
            });
        // while the flood queues up, a ping on the same path waits behind it far past a probe's deadline
        Await.until(Duration.ofSeconds(5), () -> received.get() > 2_000_000, () -> received + " bytes received");
        PeerLink.PingResult busy = link.ping("tb", 1, Duration.ZERO, 0);
        assertThat(busy.rttNanos()).as("ping behind the flood (lost or slower than a probe deadline)")
            .allSatisfy(rtt -> assertThat(rtt).isGreaterThan(TimeUnit.MILLISECONDS.toNanos(400)));

        finished.get(30, TimeUnit.SECONDS);
        assertThat(received.get()).isGreaterThan(4_000_000);
        assertThat(changes).as("path changes during the flood").isEmpty();
        assertThat(link.activePath()).contains("tb");
      }
    }
  }

  /**
   * The bulk plane runs its own connection to the path's address, so a copy's data never passes
   * through the link's channel; when the probes are starved behind it (the host's loop busy with
   * the copy), the data still shows the path alive: {@link PeerLink#trafficOn} counts it. Here
   * the cable is cut so every probe is lost, and reported traffic alone must hold the path up
   * for several failover times; once it stops, the path goes down as a pulled cable's does.
   */
  @Test
  void trafficReportedOnAPathKeepsItUpWhileItsProbesAreLost() throws Exception {
    TransportKind kind = TransportFactory.availableKinds().get(0);
    try (LinkFixture f = new LinkFixture(kind, dir)) {
      f.startHost();
      f.pair();
      try (LinkEmulator cable = LinkEmulator.start(LinkProfile.THUNDERBOLT, new InetSocketAddress("127.0.0.10", 0), f.hostAddress())) {
        List<PeerLink.PathChange> changes = new CopyOnWriteArrayList<>();
        PeerLink link = f.track(PeerLink.builder()
            .identity(f.wsId)
            .peers(f.wsPeers)
            .transport(f.transport, f.workers)
            .addPath(new LinkPath("tb", cable.localAddress(), PathKind.THUNDERBOLT))
            .listener(changes::add)
            .build()
            .start());
        assertThat(link.awaitActive(Duration.ofSeconds(10))).isTrue();
        Await.until(Duration.ofSeconds(5), () -> !changes.isEmpty(), changes::toString); // "came up" is told after
        changes.clear();

        cable.cut();
        // drive 3 s of "bulk data arriving" (a cut cable alone is declared down in about 1 s)
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() - until < 0) {
          link.trafficOn("tb");
          java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        assertThat(changes).as("path changes while traffic kept arriving").isEmpty();
        assertThat(link.activePath()).contains("tb");

        Await.until(Duration.ofSeconds(5), () -> link.activePath().isEmpty(), () -> String.valueOf(link.paths()));
        cable.restore();
      }
    }
  }
}
