package dev.thunderlink.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry the daemon's {@code sync} commands call, over an in-process gRPC host. */
class SyncSessionsTest {
  @TempDir
  Path tmp;

  /** The host's state databases, wherever under its state directory they are. */
  private List<Path> hostIndexes() throws java.io.IOException {
    try (java.util.stream.Stream<Path> w = Files.walk(tmp.resolve("host"))) {
      return w.filter(p -> p.getFileName().toString().equals("index.db")).collect(java.util.stream.Collectors.toList());
    }
  }

  @Test
  void createListFlushPauseResumeTerminateAndRestart() throws Exception {
    try (InProcessHost h = InProcessHost.start(tmp.resolve("host"), "sessions-test")) {
      ManagedChannel channel = h.channel();
      Path a = Files.createDirectories(tmp.resolve("a"));
      Path b = tmp.resolve("b");
      SyncSessions.Definition def = new SyncSessions.Definition("proj", a.toString(), b.toString(), "two-way-safe",
          List.of("*.log"), false, false, "refuse", false);
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", channel)) {
        assertThatThrownBy(() -> reg.status("proj")).hasMessage(
            "sync session: proj (there are none; create one with `thunderlink sync create proj --local PATH --remote PATH`)");
        assertThat(reg.create(def).name()).isEqualTo("proj");
        assertThatThrownBy(() -> reg.create(def)).hasMessage("sync session: proj (expected: a name not in use)");
        Files.write(a.resolve("x.txt"), "x".getBytes(UTF_8));
        reg.flush("proj", Duration.ofSeconds(30));
        assertThat(Files.readString(b.resolve("x.txt"))).isEqualTo("x");
        assertThat(reg.list()).extracting(SyncStatus::name).containsExactly("proj");
        reg.pause("proj");
        assertThat(reg.status("proj").state()).isEqualTo("PAUSED");
        assertThatThrownBy(() -> reg.flush("proj", Duration.ofSeconds(5))).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("paused");
        assertThatThrownBy(() -> reg.status("nope")).hasMessage("sync session: nope (expected: one of proj)");
      }
      // a restart brings the session back, still paused
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", channel)) {
        assertThat(reg.startAll()).isEmpty();
        assertThat(reg.status("proj").state()).isEqualTo("PAUSED");
        reg.resume("proj", false);
        // written aside and renamed in, as editors save: the session's watcher is live (2 ms
        // debounce), and a cycle between Files.write's create and its write would rightly send
        // the empty y.txt and then its content, two transfers where the count below expects one
        Path aside = Files.write(tmp.resolve("y.txt.new"), "y".getBytes(UTF_8));
        Files.move(aside, a.resolve("y.txt"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        reg.flush("proj", Duration.ofSeconds(30));
        assertThat(Files.readString(b.resolve("y.txt"))).isEqualTo("y");
        assertThat(reg.status("proj").filesTransferred()).isEqualTo(1); // x.txt was not sent again
        assertThat(hostIndexes()).as("the host's index of the session").hasSize(1);
        reg.terminate("proj");
        assertThat(reg.list()).isEmpty();
        assertThat(Files.exists(tmp.resolve("home/sync/proj"))).isFalse();
        // the host forgets the session too: a session created again later (same name, same
        // folders) does not start from a stale index, nor do terminated sessions pile up there
        assertThat(hostIndexes()).isEmpty();
        assertThat(Files.readString(a.resolve("x.txt"))).isEqualTo("x");
      }
    }
  }

  /**
   * {@code first_sync_done} turns true once both sides were in sync, however that came about:
   * here a flush right after the create (as the demo does) overtakes the first sync and
   * finishes it, then a pause and a resume.
   */
  @Test
  void theFirstSyncIsDoneOnceBothSidesWereInSyncEvenIfAFlushOvertookIt() throws Exception {
    try (InProcessHost h = InProcessHost.start(tmp.resolve("host"), "first-sync")) {
      ManagedChannel channel = h.channel();
      Path a = Files.createDirectories(tmp.resolve("a"));
      for (int i = 0; i < 2000; i++) {
        Files.writeString(a.resolve("f" + i + ".txt"), "file " + i);
      }
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", channel)) {
        reg.create(new SyncSessions.Definition("proj", a.toString(), tmp.resolve("b").toString(), null, List.of(), false,
            false, "refuse", false));
        reg.flush("proj", Duration.ofSeconds(60));
        assertThat(reg.status("proj").localRoot()).isEqualTo(a.toString());
        assertThat(reg.status("proj").firstSyncDone()).isTrue();
        reg.pause("proj");
        reg.resume("proj", false);
        assertThat(reg.status("proj").firstSyncDone()).isTrue();
        assertThat(Files.readString(tmp.resolve("b").resolve("f1999.txt"))).isEqualTo("file 1999");
      }
    }
  }

  /**
   * Two sessions whose roots overlap on both sides take each other's writes for changes: with
   * {@code P <-> R} and {@code P/sub <-> R}, a file made in {@code P/sub} came back as
   * {@code P/sub/sub/f}, {@code P/sub/sub/sub/f}, ... for ever (seen in the demo). Such a
   * session is refused, at create and when persisted from before; an overlap on one side only
   * is allowed.
   */
  @Test
  void sessionsWhoseRootsOverlapOnBothSidesAreRefused() throws Exception {
    try (InProcessHost h = InProcessHost.start(tmp.resolve("host"), "overlap")) {
      ManagedChannel channel = h.channel();
      Path p = Files.createDirectories(tmp.resolve("P"));
      Path sub = Files.createDirectories(p.resolve("sub"));
      Path q = Files.createDirectories(tmp.resolve("Q"));
      String r = tmp.resolve("R").toString();
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", channel)) {
        reg.create(definition("outer", p, r));
        assertThatThrownBy(() -> reg.create(definition("again", p, tmp.resolve("R2").toString())))
            .hasMessage("local root: " + p + " (expected: not already synced by outer)");
        // the loop of the demo, and the same nesting on both sides, and the outer one second
        for (SyncSessions.Definition d : List.of(definition("inner", sub, r),
            definition("nested", sub, r + "/sub"), definition("wider", tmp, tmp.toString() + "/R/../R/x"))) {
          assertThatThrownBy(() -> reg.create(d)).isInstanceOf(IllegalArgumentException.class)
              .hasMessage("roots: " + d.localRoot() + " <-> host:" + d.remoteRoot()
                  + " (expected: roots that do not overlap session outer's " + p + " <-> host:" + r
                  + " on both sides; each session would take the other's writes for changes and copy them round"
                  + " for ever)");
        }
        assertThat(tmp.resolve("home/sync/inner")).doesNotExist();
        // one side only: a change crosses once and stops
        reg.create(definition("sub-elsewhere", sub, tmp.resolve("S").toString()));
        reg.create(definition("into-r", q, r + "/from-q"));
        assertThat(reg.list()).extracting(SyncStatus::name).containsExactly("into-r", "outer", "sub-elsewhere");
        Files.writeString(sub.resolve("f"), "made once");
        reg.flush("outer", Duration.ofSeconds(30));
        reg.flush("sub-elsewhere", Duration.ofSeconds(30));
        reg.flush("outer", Duration.ofSeconds(30));
        assertThat(Files.readString(tmp.resolve("R/sub/f"))).isEqualTo("made once");
        assertThat(Files.readString(tmp.resolve("S/f"))).isEqualTo("made once");
        assertThat(sub.resolve("sub")).doesNotExist();
      }
      // a loop persisted before this check: the first session by name runs, the other is refused
      Path persisted = Files.createDirectories(tmp.resolve("home/sync/zz-inner")).resolve("session.json");
      Files.writeString(persisted, Files.readString(tmp.resolve("home/sync/outer/session.json"))
          .replace("\"outer\"", "\"zz-inner\"").replace("\"" + p + "\"", "\"" + sub + "\""));
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", channel)) {
        assertThat(reg.startAll()).containsOnlyKeys("zz-inner").hasValueSatisfying(
            new org.assertj.core.api.Condition<>(m -> m.startsWith("roots: " + sub + " <-> host:" + r), "the overlap"));
        assertThat(reg.list()).extracting(SyncStatus::name, SyncStatus::state).containsExactly(
            org.assertj.core.api.Assertions.tuple("into-r", "RUNNING"), org.assertj.core.api.Assertions.tuple("outer", "RUNNING"),
            org.assertj.core.api.Assertions.tuple("sub-elsewhere", "RUNNING"),
            org.assertj.core.api.Assertions.tuple("zz-inner", "NOT_STARTED"));
        assertThat(sub.resolve("sub")).doesNotExist();
      }
    }
  }

  /**
   * The daemon starts its persisted sessions once a path to the host is up. Before, and while a
   * start fails, a session is listed as NOT_STARTED with why; it was absent from {@code list},
   * and a {@code create} of its name, failing for want of the host, deleted its state.
   */
  @Test
  void aPersistedSessionIsListedAndKeptWhileTheHostIsOutOfReach() throws Exception {
    try (InProcessHost h = InProcessHost.start(tmp.resolve("host"), "reach");
        NoHost nowhere = NoHost.open("no-host-here")) {
      ManagedChannel channel = h.channel();
      Path a = Files.createDirectories(tmp.resolve("a"));
      SyncSessions.Definition proj = definition("proj", a, tmp.resolve("b").toString());
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", channel)) {
        reg.create(proj);
        Files.writeString(a.resolve("x.txt"), "x");
        reg.flush("proj", Duration.ofSeconds(30));
      }
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", nowhere.channel())) {
        // before any start: known, not running, and its name taken
        assertThat(reg.list()).singleElement().satisfies(st -> {
          assertThat(st.name()).isEqualTo("proj");
          assertThat(st.state()).isEqualTo("NOT_STARTED");
          assertThat(st.lastError()).isEqualTo("waiting for a path to the host");
          assertThat(st.localRoot()).isEqualTo(a.toString());
        });
        assertThatThrownBy(() -> reg.create(proj)).hasMessage("sync session: proj (expected: a name not in use)");
        assertThat(tmp.resolve("home/sync/proj/session.json")).exists();
        // a create that crashed before writing its definition left a folder: no session's, cleared
        Files.createDirectories(tmp.resolve("home/sync/crashed")).resolve("session.db").toFile().createNewFile();
        Files.writeString(tmp.resolve("home/sync/a-file"), "not a session's folder");
        assertThatThrownBy(() -> reg.create(definition("a-file", Files.createDirectories(tmp.resolve("c")), "/r")))
            .hasMessage("sync session: a-file (expected: a name not in use; " + tmp.resolve("home/sync/a-file") + " exists)");
        assertThatThrownBy(() -> reg.create(definition("crashed", tmp.resolve("c"), tmp.resolve("d").toString())))
            .hasMessageStartingWith("remote open: UNAVAILABLE");
        assertThat(tmp.resolve("home/sync/crashed")).doesNotExist();
        assertThat(reg.list()).extracting(SyncStatus::name).containsExactly("proj");
        assertThat(tmp.resolve("home/sync/proj/session.db")).exists();
        assertThatThrownBy(() -> reg.flush("proj", Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class)
            .hasMessage("sync session proj is not running: waiting for a path to the host (it starts by itself once that"
                + " is mended)");
        // a failed start says why, and a pause now holds when it does start
        assertThat(reg.startAll()).containsOnlyKeys("proj");
        assertThat(reg.status("proj").state()).isEqualTo("NOT_STARTED");
        assertThat(reg.status("proj").lastError()).startsWith("remote open: UNAVAILABLE");
        reg.pause("proj");
      }
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", channel)) {
        assertThat(reg.startAll()).isEmpty();
        assertThat(reg.status("proj").state()).isEqualTo("PAUSED");
        reg.resume("proj", false);
        reg.flush("proj", Duration.ofSeconds(30));
        assertThat(reg.status("proj").filesTransferred()).as("x.txt is not sent again").isZero();
        assertThat(Files.readString(tmp.resolve("b/x.txt"))).isEqualTo("x");
      }
      // out of reach again: terminate still removes it (the files stay), and the host is asked
      // to drop its index of the session once it is back
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", nowhere.channel())) {
        reg.terminate("proj");
        assertThat(reg.list()).isEmpty();
        assertThat(tmp.resolve("home/sync/proj")).doesNotExist();
        assertThat(reg.startAll()).isEmpty();
      }
      assertThat(Files.readString(a.resolve("x.txt"))).isEqualTo("x");
      assertThat(hostIndexes()).hasSize(1);
      assertThat(tmp.resolve("home/sync/host-forget.json")).exists();
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", channel)) {
        assertThat(reg.startAll()).isEmpty();
      }
      assertThat(hostIndexes()).isEmpty();
      assertThat(tmp.resolve("home/sync/host-forget.json")).doesNotExist();
    }
  }

  /**
   * While no path to the host is up, a running session says DISCONNECTED and why (RUNNING read
   * as "in sync" while nothing could cross), and one waiting to start says what it waits for.
   */
  @Test
  void aRunningSessionSaysItIsDisconnectedWhileNoPathToTheHostIsUp() throws Exception {
    java.util.concurrent.atomic.AtomicReference<java.util.Optional<String>> away =
        new java.util.concurrent.atomic.AtomicReference<>(java.util.Optional.empty());
    String why = "no path to the host is up (default: down (connection refused))";
    Path a = Files.createDirectories(tmp.resolve("a"));
    try (InProcessHost h = InProcessHost.start(tmp.resolve("host"), "away");
        SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", h.channel())) {
      reg.hostAway(away::get);
      reg.create(definition("proj", a, tmp.resolve("b").toString()));
      assertThat(reg.status("proj").state()).isEqualTo("RUNNING");
      away.set(java.util.Optional.of(why));
      assertThat(reg.list()).singleElement().satisfies(st -> {
        assertThat(st.state()).isEqualTo("DISCONNECTED");
        assertThat(st.lastError()).isEqualTo(why + "; changes on either side cross once a path is back");
        assertThat(st.localRoot()).isEqualTo(a.toString());
      });
      reg.pause("proj");
      assertThat(reg.status("proj").state()).as("a pause is the user's, whatever the link").isEqualTo("PAUSED");
      reg.resume("proj", false);
      away.set(java.util.Optional.empty());
      assertThat(reg.status("proj").state()).isEqualTo("RUNNING");
      assertThat(reg.status("proj").lastError()).isEmpty();
    }
    try (NoHost nowhere = NoHost.open("no-host-here");
        SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", nowhere.channel())) {
      reg.hostAway(away::get);
      assertThat(reg.status("proj").lastError()).isEqualTo("waiting for a path to the host");
      away.set(java.util.Optional.of(why));
      assertThat(reg.status("proj").state()).isEqualTo("NOT_STARTED");
      assertThat(reg.status("proj").lastError()).isEqualTo("waiting for a path to the host: " + why);
    }
  }

  /**
   * A running session terminated while the host is gone: the close's own request to drop the
   * host's index cannot reach it, so the name waits in {@code host-forget.json} and the host
   * drops the index once it is back. (With the host there, the close's answer is enough: the
   * host is asked once.)
   */
  @Test
  void aRunningSessionTerminatedWhileTheHostIsGoneIsForgottenThereOnceItIsBack() throws Exception {
    Path a = Files.createDirectories(tmp.resolve("a"));
    try (InProcessHost first = InProcessHost.start(tmp.resolve("host"), "gone");
        SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", first.channel())) {
      reg.create(definition("proj", a, tmp.resolve("b").toString()));
      Files.writeString(a.resolve("x.txt"), "x");
      reg.flush("proj", Duration.ofSeconds(30));
      assertThat(hostIndexes()).hasSize(1);
      first.server().shutdownNow();
      reg.terminate("proj");
      assertThat(reg.list()).isEmpty();
      assertThat(tmp.resolve("home/sync/host-forget.json")).content().contains("proj");
      assertThat(hostIndexes()).hasSize(1);
    }
    try (InProcessHost back = InProcessHost.start(tmp.resolve("host"), "back");
        SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", back.channel())) {
      assertThat(reg.startAll()).isEmpty();
      assertThat(hostIndexes()).isEmpty();
      assertThat(tmp.resolve("home/sync/host-forget.json")).doesNotExist();
    }
  }

  /** A name terminated while the host was away and then used again: its new session's index stays. */
  @Test
  void aNameUsedAgainIsNotForgottenOnTheHost() throws Exception {
    try (InProcessHost h = InProcessHost.start(tmp.resolve("host"), "again");
        NoHost nowhere = NoHost.open("no-host-again")) {
      ManagedChannel channel = h.channel();
      Path a = Files.createDirectories(tmp.resolve("a"));
      SyncSessions.Definition proj = definition("proj", a, tmp.resolve("b").toString());
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", channel)) {
        reg.create(proj);
      }
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", nowhere.channel())) {
        reg.terminate("proj");
      }
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", channel)) {
        reg.create(proj);
        Files.writeString(a.resolve("y.txt"), "y");
        reg.flush("proj", Duration.ofSeconds(30));
        assertThat(tmp.resolve("home/sync/host-forget.json")).doesNotExist();
        assertThat(hostIndexes()).hasSize(1);
        assertThat(reg.startAll()).isEmpty();
        assertThat(hostIndexes()).hasSize(1);
        assertThat(Files.readString(tmp.resolve("b/y.txt"))).isEqualTo("y");
      }
    }
  }

  /** A host's sync service behind an in-process gRPC server, and a channel to it. */
  private record InProcessHost(SyncHostService host, Server server, ManagedChannel channel) implements AutoCloseable {
    static InProcessHost start(Path stateDir, String name) throws java.io.IOException {
      SyncHostService host = new SyncHostService(stateDir, "mini", false, Duration.ofMillis(10));
      Server server = InProcessServerBuilder.forName(name).directExecutor().addService(host).build().start();
      return new InProcessHost(host, server, InProcessChannelBuilder.forName(name).directExecutor().build());
    }

    @Override
    public void close() {
      channel.shutdownNow();
      server.shutdownNow();
      host.close();
    }
  }

  /** A channel to a host that is not there (no server by that name): every call fails at once. */
  private record NoHost(ManagedChannel channel) implements AutoCloseable {
    static NoHost open(String name) {
      return new NoHost(InProcessChannelBuilder.forName(name).directExecutor().build());
    }

    @Override
    public void close() {
      channel.shutdownNow();
    }
  }

  private static SyncSessions.Definition definition(String name, Path local, String remote) {
    return new SyncSessions.Definition(name, local.toString(), remote, null, List.of(), false, false, "refuse", false);
  }

  @Test
  void badDefinitionsGetOneLineErrors() {
    try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book",
        InProcessChannelBuilder.forName("unused").build())) {
      assertThatThrownBy(() -> reg.create(new SyncSessions.Definition("p", "relative", "/r", null, List.of(), false,
          false, null, false))).hasMessage("local root: relative (expected: an absolute path)");
      assertThatThrownBy(() -> reg.create(new SyncSessions.Definition("p", "/abs", "/r", "sideways", List.of(), false,
          false, null, false))).hasMessage("mode: sideways (expected: one of two-way-safe, two-way-resolved, one-way-replica)");
      assertThatThrownBy(() -> reg.create(new SyncSessions.Definition("bad name", "/abs", "/r", null, List.of(), false,
          false, null, false))).hasMessageStartingWith("name: bad name (expected:");
      assertThatThrownBy(() -> reg.create(new SyncSessions.Definition("p", "/abs", "/r", null, List.of(" "), false,
          false, null, false))).hasMessageStartingWith("ignore pattern: ' '");
      assertThatThrownBy(() -> reg.create(new SyncSessions.Definition("p", tmp.resolve("missing").toString(), "/r",
          null, List.of(), false, false, null, false))).hasMessageEndingWith("missing: sync root does not exist (create the folder first)");
      java.nio.file.Files.writeString(tmp.resolve("a-file"), "not a folder");
      assertThatThrownBy(() -> reg.create(new SyncSessions.Definition("p", tmp.resolve("a-file").toString(), "/r",
          null, List.of(), false, false, null, false))).hasMessageEndingWith("a-file: sync root is not a directory");
      assertThat(reg.list()).isEmpty();
      assertThat(tmp.resolve("home/sync/p/session.json")).doesNotExist();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aCloseThatAsksTheHostToForgetANameThatIsNoSessionDeletesNothing() throws Exception {
    try (InProcessHost h = InProcessHost.start(tmp.resolve("host"), "forget-test")) {
      ManagedChannel channel = h.channel();
      Path precious = Files.writeString(Files.createDirectories(tmp.resolve("precious")).resolve("keep.txt"), "keep");
      var stub = dev.thunderlink.proto.sync.SyncEndpointGrpc.newBlockingStub(channel);
      assertThatThrownBy(() -> stub.close(dev.thunderlink.proto.sync.CloseRequest.newBuilder()
              .setEndpointId("../precious").setForget(true).build()))
          .hasMessage("INVALID_ARGUMENT: session: ../precious (expected: 1-64 of [A-Za-z0-9._-])");
      assertThat(precious).hasContent("keep");
    }
  }

  /**
   * The daemon's {@code [sync]} settings reach every session: its ignore rules come before the
   * session's own (so a session's {@code !rule} takes one back), and its rescan interval drives
   * the periodic full rescan, which alone finds a change on a host side that is not watched
   * here; zero turns the rescan off.
   */
  @Test
  void aNegativeWatcherLatencyOrRescanIntervalIsRefusedAtOnceOnEitherSide() {
    assertThatThrownBy(() -> new SyncSessions.Defaults(Duration.ofMillis(-1), Duration.ZERO, List.of()))
        .hasMessage("sync watcher latency: PT-0.001S (expected: >= 0)");
    assertThatThrownBy(() -> new SyncSessions.Defaults(Duration.ZERO, Duration.ofSeconds(-1), List.of()))
        .hasMessage("sync rescan interval: PT-1S (expected: >= 0; 0: none)");
    assertThatThrownBy(() -> new SyncHostService(tmp.resolve("host"), "mini", false, Duration.ofMillis(-1)))
        .hasMessage("sync watcher latency: PT-0.001S (expected: >= 0)");
  }

  @Test
  void theDaemonsDefaultsReachEverySession() throws Exception {
    try (InProcessHost h = InProcessHost.start(tmp.resolve("host"), "defaults-test")) {
      ManagedChannel channel = h.channel();
      Path a = Files.createDirectories(tmp.resolve("a"));
      Path b = tmp.resolve("b");
      Files.createDirectories(a.resolve("build"));
      for (String f : List.of("s.txt", "x.tmp", "keep.tmp", "build/o.bin")) {
        Files.writeString(a.resolve(f), f);
      }
      SyncSessions.Defaults every200ms = new SyncSessions.Defaults(Duration.ofMillis(5), Duration.ofMillis(200),
          List.of("*.tmp", "build/"));
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", channel, null, every200ms)) {
        reg.create(new SyncSessions.Definition("proj", a.toString(), b.toString(), null, List.of("!keep.tmp"), false,
            false, "refuse", false));
        reg.flush("proj", Duration.ofSeconds(30));
        try (java.util.stream.Stream<Path> w = Files.walk(b)) {
          assertThat(w.filter(Files::isRegularFile).map(p -> b.relativize(p).toString()))
              .containsExactlyInAnyOrder("s.txt", "keep.tmp");
        }
        // written on the host side, which nothing watches here: the next periodic rescan finds it
        Files.writeString(b.resolve("h.txt"), "from the host");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
            .until(() -> Files.exists(a.resolve("h.txt")) && Files.readString(a.resolve("h.txt")).equals("from the host"));
        reg.terminate("proj");
      }
      SyncSessions.Defaults noRescan = new SyncSessions.Defaults(Duration.ofMillis(5), Duration.ZERO, List.of());
      Path c = Files.createDirectories(tmp.resolve("c"));
      Path d = tmp.resolve("d");
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home2"), "book", channel, null, noRescan)) {
        reg.create(new SyncSessions.Definition("proj2", c.toString(), d.toString(), null, List.of(), false, false,
            "refuse", false));
        reg.flush("proj2", Duration.ofSeconds(30));
        Files.writeString(d.resolve("h.txt"), "from the host");
        // a change here starts a cycle, which asks the host only for what it heard of (nothing)
        Files.writeString(c.resolve("w.txt"), "from here");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(d.resolve("w.txt")));
        assertThat(c.resolve("h.txt")).as("no full rescan ran").doesNotExist();
        reg.flush("proj2", Duration.ofSeconds(30)); // a flush still scans both sides in full
        assertThat(c.resolve("h.txt")).hasContent("from the host");
      }
    }
  }
  /**
   * {@code [sync] mass_deletion_percent} and {@code mass_deletion_min_entries} reach every
   * session: at 90%, deleting 25 files of 40 crosses (the default, half and more than 20 entries,
   * halts it), and deleting 14 of the 15 left halts.
   */
  @Test
  void theSafetyStopSettingsReachEverySession() throws Exception {
    try (InProcessHost h = InProcessHost.start(tmp.resolve("host"), "safety-test")) {
      Path a = Files.createDirectories(tmp.resolve("a"));
      Path b = tmp.resolve("b");
      for (int i = 0; i < 40; i++) {
        Files.writeString(a.resolve("f" + i + ".txt"), "file " + i);
      }
      SyncSessions.Defaults ninety = new SyncSessions.Defaults(Duration.ofMillis(5), Duration.ZERO, List.of(), 0.9, 5);
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", h.channel(), null, ninety)) {
        reg.create(new SyncSessions.Definition("proj", a.toString(), b.toString(), null, List.of(), false, false,
            "refuse", false));
        reg.flush("proj", Duration.ofSeconds(30));
        for (int i = 0; i < 25; i++) {
          Files.delete(a.resolve("f" + i + ".txt"));
        }
        reg.flush("proj", Duration.ofSeconds(30));
        try (java.util.stream.Stream<Path> w = Files.list(b)) {
          assertThat(w.count()).as("25 of 40 deleted: under 90%").isEqualTo(15);
        }
        // paused, so that one plan sees all 14 (the watch may report them in two pieces, and 10 of
        // 15 then crossed, leaving 5: under 90% of the side, and of its 40 within the minute)
        reg.pause("proj");
        for (int i = 25; i < 39; i++) {
          Files.delete(a.resolve("f" + i + ".txt"));
        }
        reg.resume("proj", false);
        assertThatThrownBy(() -> reg.flush("proj", Duration.ofSeconds(30))).hasMessageContaining("halted");
        assertThat(reg.status("proj").state()).isEqualTo("HALTED");
        try (java.util.stream.Stream<Path> w = Files.list(b)) {
          assertThat(w.count()).as("nothing of the halted plan crossed").isEqualTo(15);
        }
      }
    }
    assertThatThrownBy(() -> new SyncSessions.Defaults(Duration.ZERO, Duration.ZERO, List.of(), 0, 20))
        .hasMessage("sync mass deletion share: 0.0 (expected: more than 0, at most 1)");
    assertThatThrownBy(() -> new SyncSessions.Defaults(Duration.ZERO, Duration.ZERO, List.of(), 0.5, -1))
        .hasMessage("sync mass deletion minimum: -1 (expected: >= 0)");
  }
  /**
   * A session's own safety stop ({@code sync create --mass-deletion-percent 90}) beats the
   * daemon's (half), outlives a restart of the daemon (it is in session.json), and shows in its
   * status; a session without one has the daemon's. Out-of-range values are refused by name.
   */
  @Test
  void aSessionsOwnSafetyStopBeatsTheDaemonsAndOutlivesARestart() throws Exception {
    try (InProcessHost h = InProcessHost.start(tmp.resolve("host"), "own-safety-test")) {
      Path a = Files.createDirectories(tmp.resolve("a"));
      Path b = tmp.resolve("b");
      Path c = Files.createDirectories(tmp.resolve("c"));
      for (int i = 0; i < 40; i++) {
        Files.writeString(a.resolve("f" + i + ".txt"), "file " + i);
      }
      SyncSessions.Defaults half = new SyncSessions.Defaults(Duration.ofMillis(5), Duration.ZERO, List.of(), 0.5, 5);
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", h.channel(), null, half)) {
        reg.create(new SyncSessions.Definition("proj", a.toString(), b.toString(), null, List.of(), false, false,
            "refuse", false, 90, 5));
        reg.create(definition("other", c, tmp.resolve("d").toString()));
        reg.flush("proj", Duration.ofSeconds(30));
        assertThat(reg.status("other").massDeletionPercent()).isEqualTo(50);
      }
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", h.channel(), null, half)) {
        assertThat(reg.startAll()).isEmpty();
        SyncStatus st = reg.status("proj");
        assertThat(List.of(st.massDeletionPercent(), st.massDeletionMinEntries())).as("after a restart").containsExactly(90, 5);
        for (int i = 0; i < 25; i++) {
          Files.delete(a.resolve("f" + i + ".txt"));
        }
        reg.flush("proj", Duration.ofSeconds(30));
        try (java.util.stream.Stream<Path> w = Files.list(b)) {
          assertThat(w.count()).as("25 of 40 deleted: under the session's 90%, over the daemon's half").isEqualTo(15);
        }
        reg.pause("proj");
        reg.resume("proj", false);
        assertThat(reg.status("proj").massDeletionPercent()).as("a pause and resume rewrite session.json").isEqualTo(90);
      }
      // "other" as a daemon from before these settings wrote it: without the two keys
      Path old = tmp.resolve("home/sync/other/session.json");
      Files.writeString(old, Files.readString(old).replaceAll(",\\s*\"massDeletion(Percent|MinEntries)\"\\s*:\\s*null", ""));
      assertThat(Files.readString(old)).doesNotContain("massDeletion").contains("\"paused\"");
      try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", h.channel(), null, half)) {
        assertThat(reg.startAll()).isEmpty();
        assertThat(reg.status("proj").massDeletionPercent()).isEqualTo(90);
        assertThat(reg.status("other").massDeletionPercent()).as("a session.json without them").isEqualTo(50);
        String e = tmp.resolve("e").toString();
        assertThatThrownBy(() -> reg.create(new SyncSessions.Definition("p", e, "/r", null, List.of(), false, false, null,
            false, 0, null))).hasMessage("--mass-deletion-percent: 0 (expected: 1 to 100; 100 halts only a"
                + " deletion of everything)");
        assertThatThrownBy(() -> reg.create(new SyncSessions.Definition("p", e, "/r", null, List.of(), false, false, null,
            false, 101, null))).hasMessageStartingWith("--mass-deletion-percent: 101 (expected: 1 to 100");
        assertThatThrownBy(() -> reg.create(new SyncSessions.Definition("p", e, "/r", null, List.of(), false, false, null,
            false, null, -1))).hasMessage("--mass-deletion-min-entries: -1 (expected: 0 or more)");
      }
    }
  }
}
