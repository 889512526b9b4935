package dev.thunderlink.daemon.cp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.proto.cpcontrol.CopyEvent;
import dev.thunderlink.proto.cpcontrol.CopyRequest;
import dev.thunderlink.proto.cpcontrol.CpControlGrpc;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkServer;
import dev.thunderlink.transport.emulator.LinkEmulator;
import dev.thunderlink.transport.emulator.LinkProfile;
import dev.thunderlink.transport.testing.Await;
import dev.thunderlink.transport.testing.LinkFixture;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon's half of {@code cp}: a real host and link, the service over in-process gRPC. */
class CpControlServiceTest {
  @TempDir Path tmp;

  /** A host with its bulk plane rooted at {@code root}, reached through {@code via} (an emulated path) or directly. */
  private record Rig(LinkFixture fx, PeerLink link, BulkClient client) {}

  private static Rig rig(Path tmp, Path root, LinkEmulator[] via, LinkProfile profile) throws Exception {
    LinkFixture fx = new LinkFixture(TransportFactory.auto().kind(), tmp);
    BulkServer bulk = new BulkServer(BulkConfig.defaults(List.of(root)), fx.hostPeers);
    fx.startHost(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)), b -> b.addService(bulk.controlService()).bulk(bulk));
    fx.pair();
    InetSocketAddress target = fx.hostAddress();
    if (profile != null) {
      via[0] = LinkEmulator.start(profile, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), fx.hostAddress());
      target = via[0].localAddress();
    }
    PeerLink link =
        fx.track(PeerLink.builder().identity(fx.wsId).peers(fx.wsPeers).transport(fx.transport, fx.workers)
            .addPath(new LinkPath("p", target, PathKind.LOOPBACK)).build().start());
    assertThat(link.awaitActive(Duration.ofSeconds(10))).isTrue();
    BulkClient client = BulkClient.forLink(link).identity(fx.wsId).peers(fx.wsPeers).transport(fx.transport, fx.workers).build();
    return new Rig(fx, link, client);
  }

  private static Server serve(String name, CpControlService service) throws Exception {
    return InProcessServerBuilder.forName(name).directExecutor().addService(service).build().start();
  }

  @Test
  void copiesOverTheLentLinkAndEndsWithTheSummaryTheCommandPrints() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root"));
    Path src = Files.writeString(tmp.resolve("notes.txt"), "notes\n".repeat(5000));
    Rig r = rig(tmp, root, new LinkEmulator[1], null);
    String name = "cp-" + System.nanoTime();
    CpControlService service = new CpControlService(home -> CpLink.await(r.link(), r.client(), Duration.ofSeconds(5), () -> { }), tmp);
    Server server = serve(name, service);
    ManagedChannel ch = InProcessChannelBuilder.forName(name).directExecutor().build();
    try (LinkFixture fx = r.fx()) {
      Iterator<CopyEvent> events =
          CpControlGrpc.newBlockingStub(ch).copy(CopyRequest.newBuilder().setPush(true).addSources(src.toString())
              .setDestination(root.resolve("notes.txt").toString()).setFailoverSeconds(5).build());
      CopyEvent first = events.next();
      assertThat(first.hasPlanned()).as(first.toString()).isTrue();
      assertThat(first.getPlanned().getFiles()).isEqualTo(1);
      CopyEvent e = first;
      while (!e.hasDone()) {
        e = events.next();
      }
      assertThat(e.getDone().getOk()).isTrue();
      assertThat(e.getDone().getOutput()).startsWith("sent 1 file(s)");
      assertThat(events.hasNext()).isFalse();
      assertThat(root.resolve("notes.txt")).hasContent("notes\n".repeat(5000));

      // the host refuses a path outside its roots: the command gets the one line, as its own copy would
      assertThatThrownBy(
              () -> CpControlGrpc.newBlockingStub(ch).copy(CopyRequest.newBuilder().setPush(true).addSources(src.toString())
                  .setDestination("/etc/thunderlink-test").build()).hasNext())
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              x -> assertThat(x.getStatus().getDescription()).contains("outside the permitted roots"));
      assertThat(Path.of("/etc/thunderlink-test")).doesNotExist();
    } finally {
      ch.shutdownNow();
      server.shutdownNow();
    }
  }

  @Test
  void aJsonSummaryComesInPiecesOfWholeCharactersAndWholeToACommandThatDoesNotAskForThem() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root"));
    Path src = Files.createDirectories(tmp.resolve("tree-ä-日本-😀"));
    int files = 1500; // ~0.5 MB of summary: more than one piece
    for (int i = 0; i < files; i++) {
      Files.writeString(src.resolve("f-é-語-😀-" + i + ".txt"), "x" + i);
    }
    Rig r = rig(tmp, root, new LinkEmulator[1], null);
    String name = "cp-" + System.nanoTime();
    CpControlService service = new CpControlService(home -> CpLink.await(r.link(), r.client(), Duration.ofSeconds(5), () -> { }), tmp);
    Server server = serve(name, service);
    ManagedChannel ch = InProcessChannelBuilder.forName(name).directExecutor().build();
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    try (LinkFixture fx = r.fx()) {
      CopyRequest.Builder req = CopyRequest.newBuilder().setPush(true).addSources(src.toString())
          .setDestination(root.resolve("a").toString() + "/").setFailoverSeconds(5).setJson(true);
      StringBuilder printed = new StringBuilder();
      int pieces = 0;
      CopyEvent done = null;
      for (Iterator<CopyEvent> it = CpControlGrpc.newBlockingStub(ch).copy(req.setOutputPieces(true).build()); it.hasNext(); ) {
        CopyEvent e = it.next();
        if (e.hasDone()) {
          done = e;
        } else if (e.getEventCase() == CopyEvent.EventCase.OUTPUT) {
          assertThat(done).as("output after done").isNull();
          assertThat(e.getOutputBytes().size()).isLessThanOrEqualTo(OutputPieces.MAX_PIECE);
          printed.append(e.getOutput()); // a piece cut inside a character would not parse as a string field
          pieces++;
        }
      }
      assertThat(done).isNotNull();
      assertThat(done.getDone().getOk()).isTrue();
      assertThat(done.getDone().getOutput()).isEmpty();
      assertThat(pieces).isGreaterThan(1);
      assertThat(printed.toString()).endsWith("}" + System.lineSeparator());
      com.fasterxml.jackson.databind.JsonNode summary = json.readTree(printed.toString());
      assertThat(summary.get("copied").asLong()).isEqualTo(files);
      assertThat(summary.get("entries")).hasSize(files);
      assertThat(summary.get("entries").get(0).get("source").asText()).contains("tree-ä-日本-😀/f-é-語-😀-");

      // a command from before pieces: the whole summary in `done`, the same JSON
      CopyEvent whole = null;
      for (Iterator<CopyEvent> it = CpControlGrpc.newBlockingStub(ch).copy(req.setOutputPieces(false)
          .setDestination(root.resolve("b").toString() + "/").build()); it.hasNext(); ) {
        CopyEvent e = it.next();
        assertThat(e.getEventCase()).isNotEqualTo(CopyEvent.EventCase.OUTPUT);
        whole = e;
      }
      assertThat(whole.hasDone()).isTrue();
      com.fasterxml.jackson.databind.JsonNode again = json.readTree(whole.getDone().getOutput());
      assertThat(again.get("entries")).hasSize(files);
      assertThat(again.get("entries").get(7).get("source")).isEqualTo(summary.get("entries").get(7).get("source"));
    } finally {
      ch.shutdownNow();
      server.shutdownNow();
    }
  }

  @Test
  void cancellingTheCallCancelsTheCopyAndNothingLandsUnderTheName() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root"));
    byte[] data = new byte[16 << 20];
    new java.util.Random(3).nextBytes(data);
    Path src = Files.write(tmp.resolve("big.bin"), data);
    LinkEmulator[] via = new LinkEmulator[1];
    // 16 Mbit/s: the 16 MiB take about 8 s, so the copy is still running when the call is cancelled
    // (progress events say little here: the sender's socket buffers take the whole file at once)
    Rig r = rig(tmp, root, via, LinkProfile.custom(16_000_000, Duration.ofMillis(1), Duration.ZERO));
    CountDownLatch ended = new CountDownLatch(1);
    CpControlService service =
        new CpControlService(home -> CpLink.await(r.link(), r.client(), Duration.ofSeconds(5), ended::countDown), tmp);
    String name = "cp-" + System.nanoTime();
    Server server = InProcessServerBuilder.forName(name).addService(service).build().start();
    ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
    try (LinkFixture fx = r.fx(); LinkEmulator slow = via[0]) {
      io.grpc.Context.CancellableContext call = io.grpc.Context.current().withCancellation();
      Iterator<CopyEvent> events =
          call.call(() -> CpControlGrpc.newBlockingStub(ch).copy(CopyRequest.newBuilder().setPush(true).addSources(src.toString())
              .setDestination(root.resolve("big.bin").toString()).setFailoverSeconds(5).build()));
      assertThat(events.next().hasPlanned()).isTrue();
      // cancelled once the host is writing the file (its partial exists), with seconds of it to go
      Path partial = root.resolve(".big.bin.tlpart");
      Await.until(Duration.ofSeconds(10), () -> Files.exists(partial), () -> "the host never started receiving");
      call.cancel(null);
      // the call ends CANCELLED, or (once in a clean-clone CI run) the daemon's own end of the
      // cancelled copy reached the iterator first; either way no event says the copy succeeded
      List<CopyEvent> after = new java.util.ArrayList<>();
      try {
        while (events.hasNext()) {
          after.add(events.next());
        }
      } catch (StatusRuntimeException x) {
        assertThat(x.getStatus().getCode()).isEqualTo(Status.Code.CANCELLED);
      }
      assertThat(after).noneMatch(e -> e.hasDone() && e.getDone().getOk());
      // the daemon's copy stopped (it releases the link when its copy returns), long before the 8 s the file needs
      assertThat(ended.await(3, TimeUnit.SECONDS)).isTrue();
      assertThat(root.resolve("big.bin")).doesNotExist();
    } finally {
      ch.shutdownNow();
      server.shutdownNow();
    }
  }
}
