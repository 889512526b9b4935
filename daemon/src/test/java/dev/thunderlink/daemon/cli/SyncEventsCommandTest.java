package dev.thunderlink.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thunderlink.proto.synccontrol.SyncControlGrpc;
import dev.thunderlink.proto.synccontrol.SyncEvent;
import dev.thunderlink.proto.synccontrol.SyncEventsRequest;
import dev.thunderlink.proto.synccontrol.SyncNameRequest;
import dev.thunderlink.proto.synccontrol.SyncSessionStatus;
import dev.thunderlink.transport.LocalControlServer;
import dev.thunderlink.transport.TransportFactory;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sync events} against a real control endpoint (a workstation's, on loopback) whose
 * event stream sends what each test tells it: what is printed, when the command ends, and what
 * it says when the daemon goes away mid-stream.
 */
class SyncEventsCommandTest {
  @TempDir Path home;
  private final TransportFactory tf = TransportFactory.auto();
  private final EventLoopGroup group = tf.newGroup(1, "test-control");
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private final List<SyncEventsRequest> asked = new ArrayList<>();
  private static final ObjectMapper JSON = new ObjectMapper();

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private LocalControlServer daemon(BiConsumer<SyncEventsRequest, StreamObserver<SyncEvent>> events) throws Exception {
    SyncControlGrpc.SyncControlImplBase sync = new SyncControlGrpc.SyncControlImplBase() {
      @Override
      public void status(SyncNameRequest r, StreamObserver<SyncSessionStatus> o) {
        if (r.getName().equals("proj")) {
          o.onNext(statusOf("proj", 1).build());
          o.onCompleted();
        } else {
          o.onError(Status.INVALID_ARGUMENT.withDescription("sync session: " + r.getName() + " (expected: one of proj)")
              .asRuntimeException());
        }
      }

      @Override
      public void events(SyncEventsRequest r, StreamObserver<SyncEvent> o) {
        asked.add(r);
        events.accept(r, o);
      }
    };
    return new LocalControlServer(home, 0, "workstation", List.of(sync.bindService()), tf, group, group).start();
  }

  private static SyncSessionStatus.Builder statusOf(String name, long files) {
    return SyncSessionStatus.newBuilder().setName(name).setState("RUNNING").setLocalEntries(3).setRemoteEntries(3)
        .setFilesTransferred(files);
  }

  private static SyncEvent changed(long files, long cycles) {
    return SyncEvent.newBuilder().setAtUnixMillis(1000).setKind("changed").setStatus(statusOf("proj", files).setCycles(cycles))
        .build();
  }

  private static SyncEvent pushed(String kind, String path) {
    return SyncEvent.newBuilder().setAtUnixMillis(2000).setKind(kind).setPath(path).setDetail("book -> mini")
        .setStatus(SyncSessionStatus.newBuilder().setName("proj")).build();
  }

  private int run(String... args) {
    List<String> all = new ArrayList<>(List.of("sync", "events", "--home", home.toString()));
    all.addAll(List.of(args));
    String[] a = all.toArray(String[]::new);
    picocli.CommandLine cl = ThunderlinkCommand.commandLine(a).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
    return ThunderlinkCommand.run(cl, a);
  }

  private List<String> lines() {
    return out.toString().lines().toList();
  }

  @Test
  void printsEachEventAsItComesAndEndsWhenTheNamedSessionIsTerminated() throws Exception {
    try (LocalControlServer d = daemon((r, o) -> {
      o.onNext(changed(0, 1));
      o.onNext(changed(0, 2)); // only the cycle count moved: the same line for a person
      o.onNext(pushed("applied", "src/Main.java"));
      o.onNext(changed(1, 3));
      o.onNext(SyncEvent.newBuilder().setAtUnixMillis(3000).setKind("terminated")
          .setStatus(SyncSessionStatus.newBuilder().setName("proj")).build());
      // the stream stays open, as the daemon's does: the command ends on its own
    })) {
      assertThat(run("proj")).as(err.toString()).isZero();
    }
    assertThat(asked).extracting(SyncEventsRequest::getName).containsExactly("proj");
    List<String> lines = lines();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).endsWith("  proj  changed  RUNNING: 3 local / 3 remote entries, 0 files sent (0 bytes), 0 conflicts");
    assertThat(lines.get(1)).endsWith("  proj  applied  src/Main.java  book -> mini");
    assertThat(lines.get(2)).endsWith("  proj  changed  RUNNING: 3 local / 3 remote entries, 1 files sent (0 bytes), 0 conflicts");
    assertThat(lines.get(3)).endsWith("  proj  terminated");
  }

  @Test
  void jsonGivesScriptsEveryEventAsOneLineEach() throws Exception {
    try (LocalControlServer d = daemon((r, o) -> {
      o.onNext(changed(0, 1));
      o.onNext(changed(0, 2));
      o.onNext(pushed("applied", "a.txt"));
    })) {
      assertThat(run("--json", "--count", "3")).as(err.toString()).isZero();
    }
    List<String> lines = lines();
    assertThat(lines).hasSize(3);
    JsonNode first = JSON.readTree(lines.get(0));
    assertThat(first.get("kind").asText()).isEqualTo("changed");
    assertThat(first.get("status").get("cycles").asLong()).isEqualTo(1);
    assertThat(first.get("status").get("conflicts").asLong()).as("a changed event's status in full").isZero();
    assertThat(JSON.readTree(lines.get(1)).get("status").get("cycles").asLong()).isEqualTo(2);
    JsonNode applied = JSON.readTree(lines.get(2));
    assertThat(applied.get("path").asText()).isEqualTo("a.txt");
    assertThat(applied.get("detail").asText()).isEqualTo("book -> mini");
    assertThat(applied.get("status").get("name").asText()).isEqualTo("proj");
    assertThat(applied.get("status").has("conflicts")).as("a pushed event carries the session's name only").isFalse();
    assertThat(asked).extracting(SyncEventsRequest::getName).containsExactly("");
  }

  @Test
  void kindAndCountPickTheEventsAScriptWaitsFor() throws Exception {
    try (LocalControlServer d = daemon((r, o) -> {
      o.onNext(changed(0, 1));
      o.onNext(pushed("applied", "a.txt"));
      o.onNext(pushed("conflict", "b.txt"));
      o.onNext(pushed("applied", "c.txt"));
      o.onNext(pushed("applied", "d.txt"));
    })) {
      assertThat(run("--kind", "applied", "--kind", "conflict", "--count", "3")).as(err.toString()).isZero();
    }
    assertThat(lines()).hasSize(3);
    assertThat(lines().get(0)).contains("applied  a.txt");
    assertThat(lines().get(1)).contains("conflict  b.txt");
    assertThat(lines().get(2)).contains("applied  c.txt");
  }

  @Test
  void durationEndsAQuietStreamWithSuccess() throws Exception {
    try (LocalControlServer d = daemon((r, o) -> { })) {
      assertThat(run("--duration", "1")).as(err.toString()).isZero();
    }
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void aDaemonThatGoesAwayMidStreamIsAClearFailure() throws Exception {
    try (LocalControlServer d = daemon((r, o) -> {
      o.onNext(pushed("applied", "a.txt"));
      o.onError(Status.UNAVAILABLE.withDescription("daemon shutting down").asRuntimeException());
    })) {
      assertThat(run()).isEqualTo(1);
    }
    assertThat(lines()).hasSize(1);
    assertThat(err.toString().trim()).isEqualTo("thunderlink: the workstation daemon stopped sending events (daemon shutting down);"
        + " start it again with `thunderlink connect HOST`");
  }

  @Test
  void anUnknownSessionFailsAtOnceWithTheDaemonsMessage() throws Exception {
    try (LocalControlServer d = daemon((r, o) -> o.onNext(changed(0, 1)))) {
      assertThat(run("nope")).isEqualTo(1);
    }
    assertThat(asked).as("no stream was opened for it").isEmpty();
    assertThat(err.toString().trim()).isEqualTo("thunderlink: sync session: nope (expected: one of proj)");
  }
}
