package dev.thunderlink.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The line `thunderlink status` gives the workstation's sync sessions. */
class StatusSyncLineTest {
  @Test
  void countsTheSessionsByStateAndPointsToSyncListWhenOneNeedsTheUser() {
    assertThat(StatusCommand.syncLine(Map.of())).isEqualTo("sync: no sessions");
    assertThat(StatusCommand.syncLine(new TreeMap<>(Map.of("RUNNING", 1L)))).isEqualTo("sync: 1 session: 1 running");
    assertThat(StatusCommand.syncLine(new TreeMap<>(Map.of("RUNNING", 2L, "PAUSED", 1L))))
        .isEqualTo("sync: 3 sessions: 1 paused, 2 running");
    assertThat(StatusCommand.syncLine(new TreeMap<>(Map.of("RUNNING", 2L, "NOT_STARTED", 1L, "HALTED", 1L))))
        .isEqualTo("sync: 4 sessions: 1 halted, 1 not started, 2 running (see `thunderlink sync list`)");
  }
}
