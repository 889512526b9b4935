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

  @Test
  void aSessionWaitingForABurstOfDeletionsSaysSoAndOneThatIsNotDoesNot() {
    SyncSessionStatus.Builder b = SyncSessionStatus.newBuilder().setName("proj").setState("RUNNING")
        .setMode("two-way-safe").setLocalRoot("/w").setRemoteRoot("/h").setFirstSyncDone(true);
    assertThat(text(b.build())).doesNotContain("WAITING");
    String waiting = "a burst of deletions is still growing (16366 planned on book); the safety check waits for it to end";
    assertThat(text(b.setWaiting(waiting).build()))
        .contains("\n  WAITING: " + waiting + "\n")
        .startsWith("proj  [RUNNING, two-way-safe]\n  /w <-> host:/h\n");
  }
}
