package dev.thunderlink.daemon.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What `thunderlink doctor` reports on this machine, checked against the kernel's own values. */
class DoctorTest {
  @TempDir Path home;

  private static long sysctl(String file) throws Exception {
    Process p = new ProcessBuilder("cat", file).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
    assertThat(p.waitFor()).isZero();
    return Long.parseLong(out);
  }

  @Test
  void theSocketBufferCheckShowsTheKernelsLimitsAndWarnsOnlyBelowEightMiB() throws Exception {
    assumeTrue(Files.exists(Path.of("/proc/sys/net/core/rmem_max")), "Linux only");
    long r = sysctl("/proc/sys/net/core/rmem_max");
    long w = sysctl("/proc/sys/net/core/wmem_max");
    List<Doctor.Check> checks = new Doctor(home).run();
    Doctor.Check buffers = checks.stream().filter(c -> c.name().equals("socket buffer limits")).findFirst().orElseThrow();
    // it read "net.core.rmem_max=4" for 4194304 (the first byte of the file) and so always warned
    assertThat(buffers.detail()).isEqualTo("net.core.rmem_max=" + r + " wmem_max=" + w);
    boolean enough = r >= 8 << 20 && w >= 8 << 20;
    assertThat(buffers.status()).isEqualTo(enough ? "ok" : "warn");
    assertThat(buffers.fix()).isEqualTo(enough ? "" : "sudo sysctl -w net.core.rmem_max=16777216 net.core.wmem_max=16777216 (buffers are capped at these)");
  }

  @Test
  void withNoDaemonTheDaemonCheckIsSkippedAndSaysWhatToStart() {
    List<Doctor.Check> checks = new Doctor(home).run();
    assertThat(checks).extracting(Doctor.Check::name).contains("native transport", "tls provider", "daemon");
    Doctor.Check d = checks.stream().filter(c -> c.name().equals("daemon")).findFirst().orElseThrow();
    assertThat(d.status()).isEqualTo("skip");
    assertThat(d.fix()).contains("thunderlink serve").contains("thunderlink connect");
  }
}
