package dev.thunderlink.sync.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.sync.SyncMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cycle asks both sides for their changes side by side: the host's scan (a full one at
 * flush, or its look at the paths just written) runs while the workstation scans its own
 * tree, instead of after it. Real sides on disk, with a hook around {@code changes}.
 */
class SideBySideChangesTest {
  @TempDir
  Path tmp;

  private DiskEndpoint a;
  private DiskEndpoint b;
  private StateStore state;
  private SessionEngine engine;

  @AfterEach
  void close() throws Exception {
    if (engine != null) {
      engine.close();
    }
    for (AutoCloseable c : new AutoCloseable[] {a, b, state}) {
      if (c != null) {
        c.close();
      }
    }
  }

  /** {@code real} with {@code changes} replaced by {@code hook} (which may call through). */
  private static Endpoint around(DiskEndpoint real, ChangesHook hook) {
    return EndpointHook.around(() -> real, (method, args, call) -> method.equals("changes") ? hook.changes(real, args)
        : call.proceed());
  }

  interface ChangesHook {
    Object changes(DiskEndpoint real, Object[] args) throws Exception;
  }

  private static Object callThrough(DiskEndpoint real, Object[] args) throws IOException {
    @SuppressWarnings("unchecked")
    java.util.Collection<String> hints = (java.util.Collection<String>) args[2];
    return real.changes((Long) args[0], (Boolean) args[1], hints);
  }

  private void open(Endpoint local, Endpoint remote) throws IOException {
    state = StateStore.open(tmp.resolve("session.db"));
    engine = new SessionEngine("t", SyncMode.TWO_WAY_SAFE, local, remote, state, 4096, 0.9, 1000, Clock.systemUTC());
  }

  @Test
  void theRemoteSideIsAskedWhileTheLocalSideIsStillScanning() throws Exception {
    Path ra = Files.createDirectories(tmp.resolve("a"));
    Path rb = Files.createDirectories(tmp.resolve("b"));
    Files.write(ra.resolve("x.txt"), "from a".getBytes(UTF_8));
    a = DiskEndpoint.open(ra, tmp.resolve("a.db"), DiskEndpoint.Options.defaults("book"), false);
    b = DiskEndpoint.open(rb, tmp.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false);
    CountDownLatch remoteAsked = new CountDownLatch(1);
    AtomicBoolean overlapped = new AtomicBoolean(true);
    // asked one after the other, the local side would wait here for a remote call that only
    // comes once it returns: the wait ends at its bound and the overlap is missing
    Endpoint local = around(a, (real, args) -> {
      if (!remoteAsked.await(60, TimeUnit.SECONDS)) {
        overlapped.set(false);
      }
      return callThrough(real, args);
    });
    Endpoint remote = around(b, (real, args) -> {
      remoteAsked.countDown();
      return callThrough(real, args);
    });
    open(local, remote);

    engine.runUntilStable(true, false);

    assertThat(overlapped).isTrue();
    assertThat(Files.readString(rb.resolve("x.txt"))).isEqualTo("from a");
  }

  @Test
  void aLocalFailureWaitsForTheRemoteCallAndIsTheOneReported() throws Exception {
    Path ra = Files.createDirectories(tmp.resolve("a"));
    Path rb = Files.createDirectories(tmp.resolve("b"));
    a = DiskEndpoint.open(ra, tmp.resolve("a.db"), DiskEndpoint.Options.defaults("book"), false);
    b = DiskEndpoint.open(rb, tmp.resolve("b.db"), DiskEndpoint.Options.defaults("mini"), false);
    CountDownLatch remoteRunning = new CountDownLatch(1);
    CountDownLatch releaseRemote = new CountDownLatch(1);
    AtomicBoolean remoteDone = new AtomicBoolean();
    Endpoint local = around(a, (real, args) -> {
      remoteRunning.await(60, TimeUnit.SECONDS);
      releaseRemote.countDown();
      throw new IOException("local side unreadable");
    });
    Endpoint remote = around(b, (real, args) -> {
      remoteRunning.countDown();
      releaseRemote.await(60, TimeUnit.SECONDS);
      try {
        return callThrough(real, args);
      } finally {
        remoteDone.set(true);
      }
    });
    open(local, remote);

    assertThatThrownBy(() -> engine.runUntilStable(true, false)).isInstanceOf(IOException.class)
        .hasMessage("local side unreadable");
    // no call of the failed cycle outlives it
    assertThat(remoteDone).isTrue();
  }
}
