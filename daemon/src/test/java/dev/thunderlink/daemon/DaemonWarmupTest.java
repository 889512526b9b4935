package dev.thunderlink.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.transport.FreePorts;
import dev.thunderlink.transport.testing.Await;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host daemon's inference warm-up ({@code [inference] warmup}): on, it runs in the
 * background and a SIGTERM during it (here: a warm-up far too long to end first) shuts the daemon
 * down cleanly, the warm-up saying it stopped; off, there is none.
 */
class DaemonWarmupTest {
  @TempDir Path dir;

  private DaemonProcess serve(String name, boolean warmup) throws Exception {
    Path home = dir.resolve(name);
    int port = FreePorts.pick(InetAddress.getByName("127.0.0.1"));
    int hostApi = FreePorts.pick(InetAddress.getByName("127.0.0.1"));
    DaemonProcess p =
        DaemonProcess.start(
            dir.resolve("logs"),
            name,
            List.of("-Dthunderlink.warmup.requests=1000000"),
            Map.of(
                "THUNDERLINK_INFERENCE_WARMUP", String.valueOf(warmup),
                "THUNDERLINK_INFERENCE_HOST_API_PORT", String.valueOf(hostApi)),
            "serve", "--home", home.toString(), "--simulator", "--listen", "127.0.0.1:" + port);
    // printed (to stderr) once start() has returned, after the daemon started its warm-up
    try {
      Await.until(Duration.ofSeconds(60), () -> err(p).contains("thunderlink host ready"), () -> name + " ready; " + safe(p));
    } catch (AssertionError | RuntimeException e) {
      p.close(); // no daemon left running when it did not get ready
      throw e;
    }
    return p;
  }

  private static String err(DaemonProcess p) {
    try {
      return p.err();
    } catch (Exception e) {
      return "";
    }
  }

  private static String safe(DaemonProcess p) {
    try {
      return "stderr:\n" + p.err();
    } catch (Exception e) {
      return "(no output)";
    }
  }

  @Test
  void aHostStoppedDuringItsWarmupShutsDownCleanly() throws Exception {
    try (DaemonProcess host = serve("warm", true)) {
      host.terminate();
      assertThat(host.process.exitValue()).as(host.err()).isIn(0, 143);
      assertThat(host.err()).contains("inference warm-up (JIT, private loopback pair, no upstream): ").contains("stopped: closing");
    }
  }

  @Test
  void offMeansNoWarmup() throws Exception {
    try (DaemonProcess host = serve("cold", false)) {
      host.terminate();
      assertThat(host.process.exitValue()).as(host.err()).isIn(0, 143);
      assertThat(host.err()).doesNotContain("inference warm-up");
    }
  }
}
