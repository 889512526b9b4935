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

  private static dev.thunderlink.proto.synccontrol.SyncSessionStatus session(String name, String state) {
    return dev.thunderlink.proto.synccontrol.SyncSessionStatus.newBuilder().setName(name).setState(state).build();
  }

  @Test
  void syncSessionsThatNeedTheUserEachGetALineAndAFix() {
    assertThat(Doctor.syncChecks(List.of())).singleElement()
        .isEqualTo(new Doctor.Check("sync sessions", "ok", "none", ""));
    assertThat(Doctor.syncChecks(List.of(session("a", "RUNNING"), session("b", "PAUSED")))).singleElement()
        .isEqualTo(new Doctor.Check("sync sessions", "ok", "2 sessions, no problems (1 paused by you)", ""));
    List<Doctor.Check> checks = Doctor.syncChecks(List.of(
        session("halted", "HALTED").toBuilder().setHaltReason("would delete 501 of 719 entries on mini at once").build(),
        session("away", "NOT_STARTED").toBuilder().setLastError("waiting for a path to the host: no path (...)").build(),
        session("full", "PAUSED").toBuilder().setHaltReason("the disk is full on mini").build(),
        session("fine", "RUNNING").toBuilder().setConflicts(3).build(),
        session("cut", "DISCONNECTED").toBuilder().setLastError("no path to the host is up (...)").build(),
        session("bad", "RUNNING").toBuilder().putErrors("local:b.txt", "permission denied")
            .putErrors("local:a.txt", "permission denied").build()));
    assertThat(checks).extracting(Doctor.Check::name, Doctor.Check::status, Doctor.Check::detail).containsExactly(
        org.assertj.core.api.Assertions.tuple("sync halted", "fail", "halted: would delete 501 of 719 entries on mini at once"),
        org.assertj.core.api.Assertions.tuple("sync away", "fail", "not started: waiting for a path to the host (see the path lines above)"),
        org.assertj.core.api.Assertions.tuple("sync full", "warn", "paused: the disk is full on mini"),
        org.assertj.core.api.Assertions.tuple("sync cut", "warn", "waiting for the host"),
        org.assertj.core.api.Assertions.tuple("sync bad", "warn", "2 paths not synced (local:a.txt: permission denied)"));
    assertThat(checks.get(0).fix()).isEqualTo("look at both folders, then `thunderlink sync resume halted --force` to go on");
    assertThat(checks.get(1).fix()).contains("`thunderlink sync terminate away` removes it");
    assertThat(checks.get(3).fix()).contains("cross once a path is back");
    assertThat(checks.get(4).fix()).isEqualTo("`thunderlink sync status bad`");
  }

  @Test
  void aRefusedPathIsNotBlamedOnTheCable() {
    dev.thunderlink.proto.control.PathStatus.Builder p =
        dev.thunderlink.proto.control.PathStatus.newBuilder().setName("tb").setAddress("169.254.1.2:7400");
    assertThat(Doctor.pathFix(p.setState("up").build())).isEmpty();
    assertThat(Doctor.pathFix(p.setState("down").build())).startsWith("check the cable/network to 169.254.1.2:7400");
    assertThat(Doctor.pathFix(p.setState("refused").build())).doesNotContain("cable").contains("reason");
  }
}
