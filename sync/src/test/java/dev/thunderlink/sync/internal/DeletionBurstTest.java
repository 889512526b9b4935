package dev.thunderlink.sync.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.sync.SyncMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@code rm -rf} of one side's tree reaches the engine in pieces, each "some" of the tree;
 * the plan waits while the deletions keep growing, so the safety stop sees the whole deletion
 * and nothing is lost on the other side. Real sides on disk.
 */
class DeletionBurstTest {
  @TempDir
  Path tmp;

  private static long files(Path root) throws Exception {
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(Files::isRegularFile).count();
    }
  }

  /**
   * Two sides in sync with 1,000 files; then an "rm" on the host that deletes {@code piece} more
   * files each of the next {@code pieces} times the host is asked for its changes (no watcher
   * here: each look is a full scan). {@code after} runs the engine on it.
   */
  private void deletedInPieces(int piece, int pieces, EngineCheck after) throws Exception {
    Path ra = Files.createDirectories(tmp.resolve("a"));
    Path rb = Files.createDirectories(tmp.resolve("b"));
    for (int i = 0; i < 1000; i++) {
      Files.write(ra.resolve(String.format("f%04d", i)), ("file " + i).getBytes(UTF_8));
    }
    AtomicInteger piecesLeft = new AtomicInteger(); // armed after the first sync
    AtomicInteger next = new AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<SessionEngine> running = new java.util.concurrent.atomic.AtomicReference<>();
    waitingSeen.clear();
    try (DiskEndpoint a = DiskEndpoint.open(ra, tmp.resolve("a.db"), DiskEndpoint.Options.defaults("book"), false);
        DiskEndpoint b = DiskEndpoint.open(rb, tmp.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false);
        StateStore state = StateStore.open(tmp.resolve("session.db"))) {
      Endpoint remote = EndpointHook.around(() -> b, (method, args, call) -> {
        if (method.equals("changes")) {
          if (running.get() != null) {
            waitingSeen.add(running.get().waiting()); // what `sync status` shows between two looks
          }
          if (piecesLeft.getAndDecrement() > 0) { // the rm goes on
            for (int k = 0; k < piece; k++) {
              Files.delete(rb.resolve(String.format("f%04d", next.getAndIncrement())));
            }
          }
          args[1] = true;
        }
        return call.proceed();
      });
      SessionEngine engine = new SessionEngine("t", SyncMode.TWO_WAY_SAFE, a, remote, state, 4096, 0.5, 100, clock);
      running.set(engine);
      try {
        engine.runUntilStable(true, false);
        assertThat(files(rb)).isEqualTo(1000);
        assertThat(waitingSeen).as("nothing held in the first sync").containsOnly("");
        waitingSeen.clear();
        piecesLeft.set(pieces);
        after.check(engine, ra, rb);
      } finally {
        engine.close();
      }
    }
  }

  /** The engine's clock: what counts as "recent" for the deletions of earlier plans. */
  private final SteppedClock clock = new SteppedClock();

  private static final class SteppedClock extends Clock {
    private final java.util.concurrent.atomic.AtomicLong millis = new java.util.concurrent.atomic.AtomicLong(1_800_000_000_000L);

    void advance(long ms) {
      millis.addAndGet(ms);
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public long millis() {
      return millis.get();
    }

    @Override
    public java.time.Instant instant() {
      return java.time.Instant.ofEpochMilli(millis.get());
    }
  }

  private static void deleteFiles(Path root, int from, int count) throws Exception {
    for (int i = from; i < from + count; i++) {
      Files.delete(root.resolve(String.format("f%04d", i)));
    }
  }

  /** {@link SessionEngine#waiting()} at each look at the host's changes. */
  private final java.util.List<String> waitingSeen = new java.util.concurrent.CopyOnWriteArrayList<>();

  interface EngineCheck {
    void check(SessionEngine engine, Path workstation, Path host) throws Exception;
  }

  @Test
  void aTreeDeletedInPiecesStopsTheSessionBeforeAnyPieceCrosses() throws Exception {
    deletedInPieces(200, 4, (engine, ws, host) -> { // 800 of 1,000 files deleted on the host
      assertThatThrownBy(() -> engine.runUntilStable(false, false))
          .isInstanceOf(SessionEngine.SafetyStop.class)
          .hasMessageContaining("would delete 800 of 1000 entries on book");
      assertThat(files(ws)).as("files left on the workstation").isEqualTo(1000);
      assertThat(files(host)).isEqualTo(200);
      assertThat(waitingSeen).as("while it waited, status said why")
          .contains("a burst of deletions is still growing (200 planned on book); the safety check waits for it to end")
          .contains("a burst of deletions is still growing (600 planned on book); the safety check waits for it to end");
      assertThat(engine.waiting()).as("not once it stopped").isEmpty();
    });
  }

  /**
   * An {@code rm} that stalls for longer than the burst wait reaches the engine as separate
   * deletions: each below the stop's half of what the side has left, pieces of 30% crossed
   * until the side was down to 40%. A plan is also checked against the most the side had in the
   * last minute; a forced resume starts from the size it leaves.
   */
  @Test
  void piecesOfADeletionFurtherApartThanTheWaitCountTogetherForAMinute() throws Exception {
    deletedInPieces(0, 0, (engine, ws, host) -> {
      deleteFiles(host, 0, 300);
      engine.runUntilStable(false, false);
      assertThat(files(ws)).as("300 of 1,000: less than half").isEqualTo(700);
      clock.advance(30_000);
      deleteFiles(host, 300, 300);
      assertThatThrownBy(() -> engine.runUntilStable(false, false))
          .isInstanceOf(SessionEngine.SafetyStop.class)
          .hasMessage("would delete 300 of 700 entries on book: 600 fewer than the 1000 it had in the last 60 s;"
              + " confirm with resume --force");
      assertThat(files(ws)).as("the second piece is held").isEqualTo(700);

      engine.runUntilStable(false, true); // resume --force
      assertThat(files(ws)).isEqualTo(400);
      deleteFiles(host, 600, 150);
      engine.runUntilStable(false, false);
      assertThat(files(ws)).as("150 of 400, counted alone after the confirmation").isEqualTo(250);
    });
  }

  /**
   * Files deleted and made again within the minute (a {@code git checkout} of another branch,
   * back, and there again) leave the side as large as it was: not a deletion in pieces.
   */
  @Test
  void filesDeletedAndMadeAgainWithinAMinuteAreNoMassDeletion() throws Exception {
    deletedInPieces(0, 0, (engine, ws, host) -> {
      for (int round = 0; round < 3; round++) {
        deleteFiles(host, 0, 400);
        engine.runUntilStable(false, false);
        assertThat(files(ws)).isEqualTo(600);
        clock.advance(5_000);
        for (int i = 0; i < 400; i++) {
          Files.write(host.resolve(String.format("f%04d", i)), ("file " + i).getBytes(UTF_8));
        }
        engine.runUntilStable(false, false);
        assertThat(files(ws)).isEqualTo(1000);
        clock.advance(5_000);
      }
    });
  }

  /** Deletions further apart than the window are each checked on their own. */
  @Test
  void aDeletionMoreThanAMinuteAfterTheLastIsCheckedOnItsOwn() throws Exception {
    deletedInPieces(0, 0, (engine, ws, host) -> {
      deleteFiles(host, 0, 300);
      engine.runUntilStable(false, false);
      clock.advance(SessionEngine.DELETION_WINDOW_MILLIS + 1);
      deleteFiles(host, 300, 300);
      engine.runUntilStable(false, false);
      assertThat(files(ws)).as("300 of 700, a minute after the first 300").isEqualTo(400);
    });
  }

  /** A burst of deletions below the stop's share still crosses, once it has stopped growing. */
  @Test
  void aLargeDeletionThatIsNotMostOfTheTreeCrossesOnceItStopsGrowing() throws Exception {
    deletedInPieces(150, 2, (engine, ws, host) -> { // 300 of 1,000
      engine.runUntilStable(false, false);
      assertThat(files(ws)).isEqualTo(700);
      assertThat(files(host)).isEqualTo(700);
    });
  }
}
