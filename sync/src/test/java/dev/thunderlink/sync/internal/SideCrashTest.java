package dev.thunderlink.sync.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.sync.SyncMode;
import dev.thunderlink.sync.testing.Trees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host's daemon is killed (-9) after it applied a change and answered for it, before its
 * index saved the row: it starts again from the index it saved last, which lacks that row, and
 * gives the sequence numbers after it again. What the host's user changed while it was down
 * must still reach the workstation. A two-daemon soak found the workstation keeping a symlink
 * that the host's side had deleted meanwhile. Real sides on disk; the crash is the index's
 * database files copied at the moment after the apply, as a kill -9 then would leave them.
 */
class SideCrashTest {
  @TempDir
  Path tmp;

  /**
   * {@code inTheInitialSync}: the host is killed right after the initial sync's writes, before it
   * saved any of their rows (the workstation had seen none of its numbers: it asked from 0, and a
   * deletion still had no row to come from); otherwise after a later apply.
   */
  @ParameterizedTest(name = "killed in the initial sync: {0}")
  @ValueSource(booleans = {false, true})
  void changesMadeOnAHostThatRestartedFromAnOlderIndexReachTheOtherSide(boolean inTheInitialSync) throws Exception {
    Path ra = Files.createDirectories(tmp.resolve("a"));
    Path rb = Files.createDirectories(tmp.resolve("b"));
    for (int i = 0; i < 5; i++) {
      Files.writeString(ra.resolve("f" + i + ".txt"), "file " + i);
    }
    Path crashed = Files.createDirectories(tmp.resolve("crashed"));
    AtomicReference<DiskEndpoint> host = new AtomicReference<>(
        DiskEndpoint.open(rb, tmp.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false));
    AtomicReference<Boolean> snapshotNext = new AtomicReference<>(false);
    // the workstation's view of the host: the endpoint the host has now (a restart swaps it)
    Endpoint remote = EndpointHook.around(host::get, (method, args, call) -> {
      Object r = call.proceed();
      if (snapshotNext.get() && (method.equals("writeFiles") || method.equals("apply"))) {
        snapshotNext.set(false);
        for (String f : new String[] {"b.db", "b.db-wal"}) { // what a kill -9 now would leave
          if (Files.exists(tmp.resolve(f))) {
            Files.copy(tmp.resolve(f), crashed.resolve(f));
          }
        }
      }
      return r;
    });
    try (DiskEndpoint a = DiskEndpoint.open(ra, tmp.resolve("a.db"), DiskEndpoint.Options.defaults("book"), false);
        StateStore state = StateStore.open(tmp.resolve("session.db"))) {
      SessionEngine engine = new SessionEngine("t", SyncMode.TWO_WAY_SAFE, a, remote, state, 4096, 0.9, 1000,
          Clock.systemUTC());
      try {
        String deleted;
        if (inTheInitialSync) {
          // the initial sync is one cycle: the kill comes before the next one saves its rows
          snapshotNext.set(true);
          engine.cycle(true, false);
          deleted = "f3.txt";
        } else {
          engine.runUntilStable(true, false);
          // a new file crosses to the host, which answers for it; its row is not saved yet
          snapshotNext.set(true);
          Files.writeString(ra.resolve("x.txt"), "made on the workstation");
          engine.runUntilStable(true, false);
          deleted = "x.txt";
        }
        assertThat(Trees.snapshot(rb)).isEqualTo(Trees.snapshot(ra));
        assertThat(snapshotNext.get()).as("the index was copied after the apply").isFalse();

        // kill -9: the host's index is what it saved before that apply; while it is down, its
        // user deletes a file that crossed and makes another
        host.get().close();
        Files.delete(rb.resolve(deleted));
        Files.writeString(rb.resolve("y.txt"), "made on the host while its daemon was down");
        host.set(DiskEndpoint.open(rb, crashed.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false));

        long sent = engine.filesTransferred();
        engine.runUntilStable(true, false);
        assertThat(engine.relists.get()).as("the host's whole index listed once").isEqualTo(1);
        assertThat(engine.filesTransferred() - sent).as("only y.txt crossed: no second initial sync").isEqualTo(1);
        assertThat(ra.resolve("y.txt")).as("made on the host after its restart").hasContent(
            "made on the host while its daemon was down");
        assertThat(ra.resolve(deleted)).as("deleted on the host while it was down").doesNotExist();
        assertThat(Trees.snapshot(ra)).isEqualTo(Trees.snapshot(rb));
      } finally {
        engine.close();
        host.get().close();
      }
    }
  }
}
