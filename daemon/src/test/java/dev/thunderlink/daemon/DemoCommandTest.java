package dev.thunderlink.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's first command: both daemons, paired, mirrored and serving models, then stopped. */
class DemoCommandTest {
  @TempDir Path dir;

  @Test
  void demoRunsThePairAndStops() throws Exception {
    DaemonProcess.Result r =
        DaemonProcess.run(dir.resolve("logs"), "demo", java.util.List.of(), "demo", "--dir", dir.resolve("d").toString(), "--duration", "1");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).contains("paired").contains("workstation connected").contains("SIMULATOR").contains("in sync").contains("Try, in another terminal");
    assertThat(dir.resolve("d/host-project/HELLO.md")).exists();
    // the two daemons share this machine's host name; each demo home has a device name of its own
    assertThat(Files.readString(dir.resolve("d/workstation/peers.json"))).contains("\"demo-host\"");
    assertThat(Files.readString(dir.resolve("d/host/peers.json"))).contains("\"demo-workstation\"");
    assertThat(Files.exists(dir.resolve("d/workstation/control.json"))).as("control file removed on exit").isFalse();
  }
}
