package dev.thunderlink.daemon.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.daemon.DaemonHome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Lifecycle across real processes: a lock left by a SIGKILLed daemon, SIGTERM during a transfer. */
class ProcessLifecycleTest {
  @TempDir Path dir;

  @Test
  void lockLeftByAKilledProcessIsTakenOver() throws Exception {
    Path home = dir.resolve("home");
    long childPid;
    try (ChildJvm child = new ChildJvm(LockHolderMain.class, home.toString())) {
      childPid = Long.parseLong(child.await("LOCKED pid ", 60).substring("LOCKED pid ".length()));
      try (DaemonHome second = new DaemonHome(home)) {
        assertThatThrownBy(() -> second.lock("serve"))
            .hasMessageStartingWith("another thunderlink daemon is already running with home " + home.toAbsolutePath())
            .hasMessageContaining("pid " + childPid);
      }
      child.process.destroyForcibly(); // SIGKILL: no shutdown hook, the lock file stays behind
      assertThat(child.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(Files.readString(home.resolve("daemon.lock"))).contains("pid " + childPid);
    try (DaemonHome next = new DaemonHome(home)) {
      next.lock("serve");
      assertThat(Files.readString(home.resolve("daemon.lock"))).isEqualTo("pid " + ProcessHandle.current().pid() + ", serve");
    }
  }

  @Test
  void sigtermDuringATransferCutsItAtTheGraceCheckpointsAndExits() throws Exception {
    Path checkpoint = dir.resolve("checkpoint");
    long graceMillis = 1000;
    try (ChildJvm child = new ChildJvm(TransferUnderShutdownMain.class, checkpoint.toString(), Long.toString(graceMillis))) {
      child.await("TRANSFERRING", 60);
      long t0 = System.nanoTime();
      // SIGTERM through kill(1): Process.destroy() would also close our end of the child's stdout.
      assertThat(new ProcessBuilder("kill", "-TERM", Long.toString(child.process.pid())).start().waitFor()).isZero();
      assertThat(child.process.waitFor(30, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      String report = child.await("REPORT ", 5);
      System.out.println("SIGTERM to exit during a transfer: " + tookMs + " ms (grace " + graceMillis + " ms); " + report);
      assertThat(report).contains("cut at the deadline: bulk: transfer big.bin").contains("MiB received (resumes on restart)");
      assertThat(Long.parseLong(Files.readString(checkpoint))).isGreaterThan(8L << 20);
      // exit status of a JVM ended by SIGTERM is 143 (128 + 15)
      assertThat(child.process.exitValue()).isEqualTo(143);
    }
  }
}
