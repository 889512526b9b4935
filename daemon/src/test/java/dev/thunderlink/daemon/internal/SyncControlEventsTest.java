package dev.thunderlink.daemon.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.thunderlink.proto.synccontrol.SyncControlGrpc;
import dev.thunderlink.proto.synccontrol.SyncCreateRequest;
import dev.thunderlink.proto.synccontrol.SyncEvent;
import dev.thunderlink.proto.synccontrol.SyncEventsRequest;
import dev.thunderlink.proto.synccontrol.SyncFlushRequest;
import dev.thunderlink.sync.SyncHostService;
import dev.thunderlink.sync.SyncSessions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control endpoint's event stream, over real grpc-netty servers on loopback (a host sync
 * service and the workstation's control service): every applied change and conflict arrives
 * as its own event with its path, pushed by the engine rather than sampled.
 */
class SyncControlEventsTest {
  @TempDir Path tmp;

  private Server hostServer;
  private SyncHostService host;
  private ManagedChannel toHost;
  private SyncSessions sessions;
  private SyncControlService control;
  private Server controlServer;
  private ManagedChannel toControl;

  @BeforeEach
  void setUp() throws Exception {
    host = new SyncHostService(tmp.resolve("host-state"), "mini", true, Duration.ofMillis(10));
    hostServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(host).build().start();
    toHost = NettyChannelBuilder.forAddress("127.0.0.1", hostServer.getPort()).usePlaintext().build();
    sessions = new SyncSessions(tmp.resolve("ws-home"), "book", toHost);
    control = new SyncControlService(sessions);
    controlServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(control).build()
        .start();
    toControl = NettyChannelBuilder.forAddress("127.0.0.1", controlServer.getPort()).usePlaintext().build();
  }

  @AfterEach
  void tearDown() throws Exception {
    toControl.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    controlServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    control.close();
    sessions.close();
    toHost.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    hostServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    host.close();
  }

  private static boolean has(List<SyncEvent> events, String kind, String path) {
    return events.stream().anyMatch(e -> e.getKind().equals(kind) && e.getPath().equals(path));
  }

  /**
   * A session's own safety stop over the control endpoint: kept and shown in its status; an
   * out-of-range one refused, with the unsigned value as it was sent (not the -1 an int reads).
   */
  @Test
  void createTakesASessionsOwnSafetyStopAndRefusesOneOutOfRangeAsSent() throws Exception {
    var stub = dev.thunderlink.proto.synccontrol.SyncControlGrpc.newBlockingStub(toControl)
        .withDeadlineAfter(30, TimeUnit.SECONDS);
    java.nio.file.Path local = java.nio.file.Files.createDirectories(tmp.resolve("own-local"));
    var req = dev.thunderlink.proto.synccontrol.SyncCreateRequest.newBuilder().setName("own")
        .setLocalRoot(local.toString()).setRemoteRoot(tmp.resolve("own-remote").toString());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> stub.create(req.clone().setMassDeletionPercent(-1).build()))
        .isInstanceOf(io.grpc.StatusRuntimeException.class)
        .hasMessageContaining("--mass-deletion-percent: 4294967295 (expected: 1 to 100");
    var created = stub.create(req.setMassDeletionPercent(80).setMassDeletionMinEntries(3).build());
    assertThat(created.getMassDeletionPercent()).isEqualTo(80);
    assertThat(created.getMassDeletionMinEntries()).isEqualTo(3);
  }

  @Test
  void eachAppliedChangeAndConflictIsPushedWithItsPath() throws Exception {
    Path local = Files.createDirectories(tmp.resolve("local"));
    Path remote = Files.createDirectories(tmp.resolve("remote"));
    Files.write(local.resolve("both.txt"), "book's".getBytes(UTF_8));
    Files.write(remote.resolve("both.txt"), "mini's".getBytes(UTF_8));
    for (int i = 0; i < 20; i++) {
      Files.write(local.resolve("f" + i + ".txt"), ("v" + i).getBytes(UTF_8));
    }
    List<SyncEvent> events = new CopyOnWriteArrayList<>();
    SyncControlGrpc.newStub(toControl).events(SyncEventsRequest.newBuilder().setName("proj").build(),
        new StreamObserver<>() {
          @Override
          public void onNext(SyncEvent value) {
            events.add(value);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    // a session created before the subscription is in place would push changes nobody hears
    await().atMost(Duration.ofSeconds(10)).until(() -> control.subscribers() > 0);
    var blocking = SyncControlGrpc.newBlockingStub(toControl);
    blocking.create(SyncCreateRequest.newBuilder().setName("proj").setLocalRoot(local.toString())
        .setRemoteRoot(remote.toString()).build());
    blocking.flush(SyncFlushRequest.newBuilder().setName("proj").setTimeoutSeconds(60).build());
    // a status names the session's folders and says its first sync is done
    var st = blocking.status(dev.thunderlink.proto.synccontrol.SyncNameRequest.newBuilder().setName("proj").build());
    assertThat(st.getLocalRoot()).isEqualTo(local.toString());
    assertThat(st.getRemoteRoot()).isEqualTo(remote.toString());
    assertThat(st.getFirstSyncDone()).isTrue();

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      for (int i = 0; i < 20; i++) {
        assertThat(has(events, "applied", "f" + i + ".txt")).as("f" + i + ".txt").isTrue();
      }
      assertThat(has(events, "conflict", "both.txt")).isTrue();
    });
    SyncEvent applied = events.stream().filter(e -> e.getPath().equals("f3.txt")).findFirst().orElseThrow();
    assertThat(applied.getDetail()).isEqualTo("book -> mini");
    assertThat(applied.getStatus().getName()).isEqualTo("proj");
    assertThat(events.stream().filter(e -> e.getKind().equals("conflict")).findFirst().orElseThrow().getDetail())
        .contains("both sides changed both.txt");

    // and an edit made later arrives as its own event
    Files.write(remote.resolve("later.txt"), "new".getBytes(UTF_8));
    blocking.flush(SyncFlushRequest.newBuilder().setName("proj").setTimeoutSeconds(60).build());
    await().atMost(Duration.ofSeconds(10)).until(() -> events.stream()
        .anyMatch(e -> e.getKind().equals("applied") && e.getPath().equals("later.txt")
            && e.getDetail().equals("mini -> book")));
  }
}
