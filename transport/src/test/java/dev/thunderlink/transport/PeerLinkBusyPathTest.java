package dev.thunderlink.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.transport.emulator.LinkEmulator;
import dev.thunderlink.transport.emulator.LinkProfile;
import dev.thunderlink.transport.testing.Await;
import dev.thunderlink.transport.testing.RawBytes;
import dev.thunderlink.transport.testing.LinkFixture;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkServer;
import dev.thunderlink.transport.bulk.BulkSession;
import dev.thunderlink.transport.bulk.PushItem;
import dev.thunderlink.transport.bulk.TransferListener;
import dev.thunderlink.transport.bulk.TransferResult;
import dev.thunderlink.transport.bulk.internal.BulkConnection;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
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
        PeerLink link = upThrough(f, cable, changes);

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
        // while the flood queues up, a ping on the same path waits behind it far past a probe's
        // deadline (asked once half a second of the flood has arrived: with 2 MB, under load, the
        // queue was not yet deep enough and the ping came back in 393 ms, just inside it)
        Await.until(Duration.ofSeconds(5), () -> received.get() > 8_000_000, () -> received + " bytes received");
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
        PeerLink link = upThrough(f, cable, changes);

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

  /**
   * A push: the workstation sends a copy's data over the bulk connection and the host sends
   * almost nothing back, so nothing arrives to show the path alive; the bulk connection must
   * report its own progress (writes that waited behind a full send buffer and then went out,
   * i.e. the host's TCP acknowledged data). The link's probes run over a cut cable, so every
   * one is lost; the push runs over a separate slow (16 Mbit/s) emulated link to the same host
   * for about 3 s, several failover times. Before, the path was declared down mid-push (a cp
   * of a 20,000-file tree to the host finished only on a retry); once the push ends, the path
   * goes down as a pulled cable's does.
   */
  @Test
  void aPushWhoseReceiverSendsNothingBackKeepsThePathUp() throws Exception {
    TransportKind kind = TransportFactory.availableKinds().get(0);
    Path root = dir.resolve("root");
    Files.createDirectories(root);
    try (LinkFixture f = new LinkFixture(kind, dir)) {
      BulkServer bulkServer = new BulkServer(BulkConfig.defaults(List.of(root)), f.hostPeers);
      f.startHost(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
          b -> b.addService(bulkServer.controlService()).bulk(bulkServer));
      f.pair();
      Path src = dir.resolve("big");
      byte[] data = new byte[12 * 1024 * 1024]; // about 6 s at 16 Mbit/s
      new Random(7).nextBytes(data);
      Files.write(src, data);
      LinkProfile slow = LinkProfile.custom(16_000_000, Duration.ZERO, Duration.ZERO);
      try (LinkEmulator cable = LinkEmulator.start(LinkProfile.THUNDERBOLT, new InetSocketAddress("127.0.0.11", 0), f.hostAddress());
          LinkEmulator slowBulk = LinkEmulator.start(slow, new InetSocketAddress("127.0.0.12", 0), f.hostAddress())) {
        List<PeerLink.PathChange> changes = new CopyOnWriteArrayList<>();
        PeerLink link = upThrough(f, cable, changes);
        List<PeerLink.PathChange> changesWhileSending = new CopyOnWriteArrayList<>();

        String hostFp = f.hostId.fingerprint();
        ManagedChannel control = LinkChannels.newChannel(f.hostAddress(),
            TlsContexts.grpcClient(f.wsId, fp -> fp.equalsIgnoreCase(hostFp)), f.transport, f.workers,
            TuningProfile.defaults(PathKind.LOOPBACK));
        try {
          LinkPath bulkPath = new LinkPath("tb", slowBulk.localAddress(), PathKind.THUNDERBOLT);
          BulkClient client = BulkClient.builder()
              .identity(f.wsId)
              .peers(f.wsPeers)
              .transport(f.transport, f.workers)
              .control(control)
              .target(() -> Optional.of(bulkPath))
              .traffic(link::trafficOn)
              .build();
          Path partial = BulkConnection.partialPath(root.resolve("copy"));
          try (BulkSession s = client.open()) {
            cable.cut(); // every probe from now on is lost; only the push shows the path alive
            // the emulator's relay takes up to a few MiB off the workstation (its socket buffer and
            // delay line) and meters them out after the workstation is done: the last of the push
            // shows nothing at the workstation, and on a real path those bytes would be at the
            // host already. So the cable is mended once 8 MiB (4 s, four failover times) are in.
            CompletableFuture<Void> delivered = CompletableFuture.runAsync(() -> {
              Await.until(Duration.ofSeconds(60), () -> sizeOf(partial) >= 8L * 1024 * 1024 || Files.exists(root.resolve("copy")), () -> sizeOf(partial) + " bytes at the host");
              changesWhileSending.addAll(changes);
              cable.restore();
            });
            List<TransferResult> r = s.push(List.of(new PushItem(src, root.resolve("copy").toString(), null)), TransferListener.NONE);
            assertThat(r).singleElement().satisfies(x -> assertThat(x.error()).isNull());
            delivered.get(10, TimeUnit.SECONDS);
          }
          assertThat(changesWhileSending).as("path changes while the push's data was on its way").isEmpty();
          assertThat(Files.mismatch(src, root.resolve("copy"))).isEqualTo(-1);

          cable.cut(); // and with no push, the cut cable is noticed as before
          Await.until(Duration.ofSeconds(5), () -> link.activePath().isEmpty(), () -> String.valueOf(link.paths()));
          cable.restore();

          // a push whose own path is pulled mid-way: the bulk connection's data stops being
          // acknowledged (the relay stops reading; its kernel acknowledges only window probes),
          // so the push no longer holds the path up and it goes down as a pulled cable's does
          Await.until(Duration.ofSeconds(10), () -> link.activePath().isPresent(), () -> String.valueOf(link.paths()));
          Files.delete(root.resolve("copy"));
          try (BulkSession s = client.open()) {
            CompletableFuture<List<TransferResult>> push = CompletableFuture.supplyAsync(
                () -> s.push(List.of(new PushItem(src, root.resolve("copy").toString(), null)), TransferListener.NONE));
            Await.until(Duration.ofSeconds(30), () -> sizeOf(partial) >= 2L * 1024 * 1024, () -> sizeOf(partial) + " bytes at the host");
            long cutAt = System.currentTimeMillis();
            cable.cut();
            slowBulk.cut();
            Await.until(Duration.ofSeconds(5), () -> link.activePath().isEmpty(), () -> String.valueOf(link.paths()));
            System.out.println("pulled mid-push: path down after " + (System.currentTimeMillis() - cutAt) + " ms");
            slowBulk.restore();
            cable.restore();
            push.get(60, TimeUnit.SECONDS);
          }
        } finally {
          control.shutdownNow();
        }
      }
    }
  }

  private static long sizeOf(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * A workstation link whose one path, "tb", goes through {@code cable}; returns once the path
   * is up and its "came up" notice (told after awaitActive returns) has been taken out of
   * {@code changes}, so the test sees only what happens next.
   */
  private static PeerLink upThrough(LinkFixture f, LinkEmulator cable, List<PeerLink.PathChange> changes)
      throws Exception {
    PeerLink link = f.track(PeerLink.builder()
        .identity(f.wsId)
        .peers(f.wsPeers)
        .transport(f.transport, f.workers)
        .addPath(new LinkPath("tb", cable.localAddress(), PathKind.THUNDERBOLT))
        .listener(changes::add)
        .build()
        .start());
    assertThat(link.awaitActive(Duration.ofSeconds(10))).isTrue();
    Await.until(Duration.ofSeconds(5), () -> !changes.isEmpty(), changes::toString);
    changes.clear();
    return link;
  }
}
