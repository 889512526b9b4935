package dev.thunderlink.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host's disk fills up during a sync (a real 1 MiB tmpfs, so it needs root; skipped
 * otherwise, saying so): the session pauses with a one-line reason, nothing lands half-written
 * or under a temporary name, and once space is freed it resumes by itself and converges.
 */
class DiskFullTest {
  @TempDir
  Path tmp;

  private Path small;
  private boolean mounted;
  private Server server;
  private SyncHostService host;
  private ManagedChannel channel;

  @BeforeEach
  void setUp() throws Exception {
    small = Files.createDirectories(tmp.resolve("small"));
    mounted = mount(small, "1m");
    assumeTrue(mounted, "needs root to mount a 1 MiB tmpfs");
    host = new SyncHostService(tmp.resolve("host-state"), "mini", true, Duration.ofMillis(10));
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(host).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      host.close();
    }
    if (mounted) {
      Process p = new ProcessBuilder("umount", small.toString()).redirectErrorStream(true).start();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static boolean mount(Path dir, String size) throws IOException, InterruptedException {
    if (!"root".equals(System.getProperty("user.name"))) {
      return false;
    }
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
        .redirectErrorStream(true).start();
    return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
  }

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static void assertNoTempFiles(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".thunderlink-tmp"));
    }
  }

  @Test
  void fullHostDiskPausesTheSessionLosesNothingAndResumesWhenSpaceReturns() throws Exception {
    Path a = Files.createDirectories(tmp.resolve("a"));
    Path b = small.resolve("b");
    Path filler = small.resolve("filler"); // outside the sync root, on the same small disk
    Files.write(filler, random(600 * 1024, 1));
    byte[] one = random(300 * 1024, 2);
    byte[] two = random(300 * 1024, 3);
    Files.write(a.resolve("one.bin"), one);
    Files.write(a.resolve("two.bin"), two);
    Files.write(a.resolve("note.txt"), "small".getBytes(UTF_8));
    SyncSessionConfig c = SyncSessionConfig.builder("proj").localRoot(a).remoteRoot(b.toString())
        .stateDir(tmp.resolve("ws-state")).deviceName("book").watch(false).build();
    try (SyncSession s = SyncSession.start(c, channel)) {
      // which file meets the full disk first depends on the order the writes run in (they run
      // side by side): a 300 KiB copy, or the 5-byte note while a 300 KiB copy holds the space
      assertThatThrownBy(() -> s.flush(Duration.ofSeconds(30))).isInstanceOf(IllegalStateException.class)
          .hasMessageMatching("(?s).*is paused: disk full on mini: (307200|5) bytes needed at "
              + java.util.regex.Pattern.quote(b.toString()) + "/(one\\.bin|two\\.bin|note\\.txt)\\b.*")
          .hasMessageContaining("run `thunderlink sync resume proj`");
      SyncStatus st = s.status();
      assertThat(st.state()).isEqualTo("PAUSED");
      assertThat(st.haltReason()).startsWith("disk full on mini: ").doesNotContain("\n");
      assertNoTempFiles(b);
      // what did land is whole; the source side is untouched
      for (String name : new String[] {"one.bin", "two.bin"}) {
        Path there = b.resolve(name);
        if (Files.exists(there)) {
          assertThat(Files.mismatch(there, a.resolve(name))).isEqualTo(-1);
        }
      }
      assertThat(Files.readAllBytes(a.resolve("one.bin"))).isEqualTo(one);
      assertThat(Files.readAllBytes(a.resolve("two.bin"))).isEqualTo(two);

      Files.delete(filler);
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() ->
          s.status().state().equals("RUNNING") && s.status().haltReason().isEmpty()
              && Files.exists(b.resolve("one.bin")) && Files.exists(b.resolve("two.bin")));
      s.flush(Duration.ofSeconds(30));
      assertThat(Files.readAllBytes(b.resolve("one.bin"))).isEqualTo(one);
      assertThat(Files.readAllBytes(b.resolve("two.bin"))).isEqualTo(two);
      assertThat(Files.readString(b.resolve("note.txt"))).isEqualTo("small");
      assertNoTempFiles(b);
    }
  }

  @Test
  void aPauseForSpaceIsLiftedByResumeAndAUserPauseIsNotLiftedBySpace() throws Exception {
    Path a = Files.createDirectories(tmp.resolve("a"));
    Path b = small.resolve("b");
    Path filler = small.resolve("filler");
    Files.write(filler, random(900 * 1024, 4));
    Files.write(a.resolve("big.bin"), random(200 * 1024, 5));
    SyncSessionConfig c = SyncSessionConfig.builder("proj").localRoot(a).remoteRoot(b.toString())
        .stateDir(tmp.resolve("ws-state")).deviceName("book").watch(false).build();
    try (SyncSession s = SyncSession.start(c, channel)) {
      assertThatThrownBy(() -> s.flush(Duration.ofSeconds(30))).hasMessageContaining("disk full on mini");
      s.pause(); // the user's pause: space returning must not lift it
      Files.delete(filler);
      assertThat(s.status().state()).isEqualTo("PAUSED");
      assertThatThrownBy(() -> s.flush(Duration.ofSeconds(5))).hasMessageContaining("is paused");
      s.resume(false);
      s.flush(Duration.ofSeconds(30));
      assertThat(Files.mismatch(a.resolve("big.bin"), b.resolve("big.bin"))).isEqualTo(-1);
    }
  }
}
