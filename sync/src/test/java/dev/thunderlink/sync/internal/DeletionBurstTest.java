package dev.thunderlink.sync.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.sync.SyncMode;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
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
 * and nothing is lost on the other side. Real sides on disk; the "rm" deletes the next piece of
 * the host's files each time the host is asked for its changes.
 */
class DeletionBurstTest {
  @TempDir
  Path tmp;

  private static long files(Path root) throws Exception {
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(Files::isRegularFile).count();
    }
  }

  @Test
  void aTreeDeletedInPiecesStopsTheSessionBeforeAnyPieceCrosses() throws Exception {
    Path ra = Files.createDirectories(tmp.resolve("a"));
    Path rb = Files.createDirectories(tmp.resolve("b"));
    for (int i = 0; i < 1000; i++) {
      Files.write(ra.resolve(String.format("f%04d", i)), ("file " + i).getBytes(UTF_8));
    }
    AtomicInteger piecesLeft = new AtomicInteger(); // armed after the first sync
    AtomicInteger next = new AtomicInteger();
    try (DiskEndpoint a = DiskEndpoint.open(ra, tmp.resolve("a.db"), DiskEndpoint.Options.defaults("book"), false);
        DiskEndpoint b = DiskEndpoint.open(rb, tmp.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false);
        StateStore state = StateStore.open(tmp.resolve("session.db"))) {
      Endpoint remote = (Endpoint) Proxy.newProxyInstance(Endpoint.class.getClassLoader(), new Class<?>[] {Endpoint.class},
          (proxy, m, args) -> {
            try {
              if (m.getName().equals("changes")) {
                if (piecesLeft.getAndDecrement() > 0) { // the rm goes on: 200 more files gone
                  for (int k = 0; k < 200; k++) {
                    Files.delete(rb.resolve(String.format("f%04d", next.getAndIncrement())));
                  }
                }
                args[1] = true; // no watcher here: each look is a full scan
              }
              return m.invoke(b, args);
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          });
      SessionEngine engine = new SessionEngine("t", SyncMode.TWO_WAY_SAFE, a, remote, state, 4096, 0.5, 100,
          Clock.systemUTC());
      try {
        engine.runUntilStable(true, false);
        assertThat(files(rb)).isEqualTo(1000);

        piecesLeft.set(4); // 800 of 1,000 files deleted on the host, 200 per look
        assertThatThrownBy(() -> engine.runUntilStable(false, false))
            .isInstanceOf(SessionEngine.SafetyStop.class)
            .hasMessageContaining("would delete 800 of 1000 entries on book");
        assertThat(files(ra)).as("files left on the workstation").isEqualTo(1000);
        assertThat(files(rb)).isEqualTo(200);
      } finally {
        engine.close();
      }
    }
  }

  /** A burst of deletions below the stop's share still crosses, once it has stopped growing. */
  @Test
  void aLargeDeletionThatIsNotMostOfTheTreeCrossesOnceItStopsGrowing() throws Exception {
    Path ra = Files.createDirectories(tmp.resolve("a"));
    Path rb = Files.createDirectories(tmp.resolve("b"));
    for (int i = 0; i < 1000; i++) {
      Files.write(ra.resolve(String.format("f%04d", i)), ("file " + i).getBytes(UTF_8));
    }
    AtomicInteger piecesLeft = new AtomicInteger();
    AtomicInteger next = new AtomicInteger();
    try (DiskEndpoint a = DiskEndpoint.open(ra, tmp.resolve("a.db"), DiskEndpoint.Options.defaults("book"), false);
        DiskEndpoint b = DiskEndpoint.open(rb, tmp.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false);
        StateStore state = StateStore.open(tmp.resolve("session.db"))) {
      Endpoint remote = (Endpoint) Proxy.newProxyInstance(Endpoint.class.getClassLoader(), new Class<?>[] {Endpoint.class},
          (proxy, m, args) -> {
            try {
              if (m.getName().equals("changes")) {
                if (piecesLeft.getAndDecrement() > 0) {
                  for (int k = 0; k < 150; k++) {
                    Files.delete(rb.resolve(String.format("f%04d", next.getAndIncrement())));
                  }
                }
                args[1] = true;
              }
              return m.invoke(b, args);
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          });
      SessionEngine engine = new SessionEngine("t", SyncMode.TWO_WAY_SAFE, a, remote, state, 4096, 0.5, 100,
          Clock.systemUTC());
      try {
        engine.runUntilStable(true, false);
        piecesLeft.set(2); // 300 of 1,000 deleted, 150 per look

        engine.runUntilStable(false, false);

        assertThat(files(ra)).isEqualTo(700);
        assertThat(files(rb)).isEqualTo(700);
      } finally {
        engine.close();
      }
    }
  }
}
