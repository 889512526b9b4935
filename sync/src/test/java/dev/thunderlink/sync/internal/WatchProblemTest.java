package dev.thunderlink.sync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.sync.SyncHostService;
import dev.thunderlink.sync.SyncSessions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tree that cannot be watched (on Linux: more directories than inotify watches left) leaves
 * its edits to the periodic rescan, minutes apart. The session's status says so, for either
 * side, instead of a log line only.
 */
class WatchProblemTest {
  @TempDir Path tmp;

  @AfterEach
  void watchAgain() {
    TreeWatcher.beforeRegistering = w -> { };
  }

  @Test
  void aSideWhoseTreeCannotBeWatchedSaysSoInTheSessionsStatus() throws Exception {
    TreeWatcher.beforeRegistering = w -> {
      try {
        w.close(); // its registration then fails, as one out of inotify watches does
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    };
    SyncHostService host = new SyncHostService(tmp.resolve("host"), "mini", true, Duration.ofMillis(10));
    Server server = InProcessServerBuilder.forName("watch-problem").directExecutor().addService(host).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName("watch-problem").directExecutor().build();
    Path a = Files.createDirectories(tmp.resolve("a"));
    Path b = tmp.resolve("b");
    Files.writeString(a.resolve("x.txt"), "x");
    try (SyncSessions reg = new SyncSessions(tmp.resolve("home"), "book", channel)) {
      reg.create(new SyncSessions.Definition("proj", a.toString(), b.toString(), null, List.of(), false, false, "refuse", false));
      reg.flush("proj", Duration.ofSeconds(30));
      assertThat(Files.readString(b.resolve("x.txt"))).isEqualTo("x"); // syncing goes on, by scans
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
        reg.flush("proj", Duration.ofSeconds(30));
        Map<String, String> e = reg.status("proj").errors();
        return e.containsKey(SessionEngine.WATCH_LOCAL) && e.containsKey(SessionEngine.WATCH_REMOTE);
      });
      Map<String, String> errors = reg.status("proj").errors();
      assertThat(errors.get(SessionEngine.WATCH_LOCAL)).startsWith("cannot watch " + a).contains("periodic scans");
      assertThat(errors.get(SessionEngine.WATCH_REMOTE)).startsWith("cannot watch " + b).contains("periodic scans");
      assertThat(errors).hasSize(2); // nothing else is wrong
      // and such a side is polled: an edit there crosses within seconds, with no flush to ask for it
      Files.writeString(b.resolve("from-host.txt"), "unwatched");
      Awaitility.await().atMost(Duration.ofSeconds(40))
          .until(() -> Files.exists(a.resolve("from-host.txt")) && Files.readString(a.resolve("from-host.txt")).equals("unwatched"));
      reg.terminate("proj");
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
      host.close();
    }
  }
}
