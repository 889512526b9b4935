package dev.thunderlink.sync.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.sync.SyncMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ancestor rows a plan agrees on are written while its transfers still run, a thousand or
 * so at a time, not all after the last one (an initial sync of 20,000 files spent ~0.1 s on
 * them at its end, with the host idle). Real sides on disk, the session's database read by a
 * second connection while the plan's last call waits for the calls before it to be settled.
 */
class AgreedRowsTest {
  @TempDir
  Path tmp;

  @Test
  void rowsAgreedEarlyInAPlanAreWrittenBeforeItsLastTransfer() throws Exception {
    Path ra = Files.createDirectories(tmp.resolve("a"));
    Path rb = Files.createDirectories(tmp.resolve("b"));
    int files = 1600; // the last call (256 files at most) comes after more than a write's worth
    for (int i = 0; i < files; i++) {
      Files.write(ra.resolve(String.format("f%04d", i)), ("file " + i).getBytes(UTF_8));
    }
    String last = String.format("f%04d", files - 1);
    Path db = tmp.resolve("session.db");
    try (DiskEndpoint a = DiskEndpoint.open(ra, tmp.resolve("a.db"), DiskEndpoint.Options.defaults("book"), false);
        DiskEndpoint b = DiskEndpoint.open(rb, tmp.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false);
        StateStore state = StateStore.open(db)) {
      AtomicLong rowsSeenByTheLastCall = new AtomicLong(-1);
      // the call that carries the plan's last file waits until the session thread has settled
      // more than a write's worth of the calls before it: their rows are in the database by then
      CountDownLatch settledMoreThanAWrite = new CountDownLatch(SessionEngine.AGREED_ROWS_PER_WRITE + 1);
      Endpoint remote = EndpointHook.around(() -> b, (method, args, call) -> {
        if (method.equals("writeFiles")
            && ((List<?>) args[0]).stream().anyMatch(f -> ((Endpoint.WholeFile) f).path().equals(last))) {
          assertThat(settledMoreThanAWrite.await(60, TimeUnit.SECONDS)).isTrue();
          rowsSeenByTheLastCall.set(ancestorRows(db));
        }
        return call.proceed();
      });
      SessionEngine engine = new SessionEngine("t", SyncMode.TWO_WAY_SAFE, a, remote, state, 4096, 0.9, 1000,
          Clock.systemUTC());
      engine.onChange((kind, path, detail) -> {
        if (kind.equals("applied")) {
          settledMoreThanAWrite.countDown();
        }
      });

      try {
        engine.runUntilStable(true, false);
      } finally {
        engine.close();
      }

      assertThat(rowsSeenByTheLastCall.get())
          .as("ancestor rows in the database while the plan's last call was under way")
          .isGreaterThanOrEqualTo(SessionEngine.AGREED_ROWS_PER_WRITE);
      assertThat(state.loadAncestor()).hasSize(files);
      assertThat(Files.readString(rb.resolve(last))).isEqualTo("file " + (files - 1));
    }
  }

  private static long ancestorRows(Path db) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM ancestor")) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }
}
