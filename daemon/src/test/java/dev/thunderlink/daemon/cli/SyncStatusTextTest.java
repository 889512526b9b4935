package dev.thunderlink.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.proto.synccontrol.SyncSessionStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** What `sync status` prints for a session, from the daemon's answer. */
class SyncStatusTextTest {
  private static String text(SyncSessionStatus s) {
    StringWriter sw = new StringWriter();
    CommandLine cl = new CommandLine(new SyncCommand.StatusCmd());
    cl.setOut(new PrintWriter(sw));
    ((SyncCommand.StatusCmd) cl.getCommand()).printStatus(s);
    return sw.toString();
  }

  /** A running session "proj" between /w and /h. */
  private static SyncSessionStatus.Builder running() {
    return SyncSessionStatus.newBuilder().setName("proj").setState("RUNNING").setMode("two-way-safe")
        .setLocalRoot("/w").setRemoteRoot("/h");
  }

  @Test
  void aSessionWaitingForABurstOfDeletionsSaysSoAndOneThatIsNotDoesNot() {
    SyncSessionStatus.Builder b = running().setFirstSyncDone(true);
    assertThat(text(b.build())).doesNotContain("WAITING");
    String waiting = "a burst of deletions is still growing (16366 planned on book); the safety check waits for it to end";
    assertThat(text(b.setWaiting(waiting).build()))
        .contains("\n  WAITING: " + waiting + "\n")
        .startsWith("proj  [RUNNING, two-way-safe]\n  /w <-> host:/h\n");
  }

  /** A session halted since before the daemon restarted has no first sync running, though none finished. */
  @Test
  void onlyARunningSessionSaysItsFirstSyncIsRunning() {
    SyncSessionStatus.Builder b = running().setFirstSyncDone(false);
    assertThat(text(b.build())).contains("  /w <-> host:/h (first sync running)\n");
    String why = "would delete 22 of 62 entries on vm: 60 fewer than the 100 it had in the last 60 s; confirm with resume --force";
    assertThat(text(b.setState("HALTED").setHaltReason(why).build()))
        .contains("  /w <-> host:/h\n  HALTED: " + why + "\n");
  }

  /** A halted session names the safety stop it is under, and where that is set. */
  @Test
  void aHaltedSessionNamesItsSafetyStop() {
    SyncSessionStatus.Builder b = running().setFirstSyncDone(true).setMassDeletionPercent(90).setMassDeletionMinEntries(5);
    assertThat(text(b.build())).doesNotContain("safety stop");
    assertThat(text(b.setState("HALTED").setHaltReason("would delete 39 of 40 entries on mini at once").build()))
        .contains("\n  safety stop: 90% of a side, more than 5 entries ([sync] mass_deletion_percent and"
            + " mass_deletion_min_entries, or sync create's --mass-deletion-percent)\n");
  }
}
