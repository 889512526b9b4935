package dev.thunderlink.daemon.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.thunderlink.proto.synccontrol.SyncProgress;
import dev.thunderlink.sync.SyncStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The plan's progress as {@code sync status --json} and the event stream carry it: rate and ETA. */
class SyncProgressTest {
  private static SyncStatus status(long ops, long opsDone, long bytes, long bytesDone, long started, long finished,
      boolean active) {
    return new SyncStatus("proj", "two-way-safe", "RUNNING", "", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, Map.of(), List.of(), 0,
        ops, opsDone, bytes, bytesDone, started, finished, active, "/w", "/h", false, "", 50, 20);
  }

  @Test
  void noPlanYetHasNoRateAndAnUnknownEta() {
    SyncProgress p = SyncControlService.progress(status(0, 0, 0, 0, 0, 0, false), 5_000);
    assertThat(p.getStartedUnixMillis()).isZero();
    assertThat(p.getBytesPerSecond()).isZero();
    assertThat(p.getEtaSeconds()).isEqualTo(-1);
  }

  @Test
  void aRunningPlanGivesItsRateSoFarAndTheTimeLeftByBytes() {
    // 40 MB of 100 MB in 2 s: 20 MB/s, 3 s left
    SyncProgress p = SyncControlService.progress(status(1000, 300, 100_000_000, 40_000_000, 10_000, 0, true), 12_000);
    assertThat(p.getActive()).isTrue();
    assertThat(p.getBytesPerSecond()).isCloseTo(20_000_000, within(1.0));
    assertThat(p.getEtaSeconds()).isCloseTo(3.0, within(0.001));
  }

  @Test
  void aPlanThatSendsNoContentCountsItsOperations() {
    // 200 of 1000 directories and deletions in 1 s: 4 s left
    SyncProgress p = SyncControlService.progress(status(1000, 200, 0, 0, 10_000, 0, true), 11_000);
    assertThat(p.getEtaSeconds()).isCloseTo(4.0, within(0.001));
  }

  @Test
  void aFinishedPlanKeepsTheRateOfItsRunSoAnIdleStatusDoesNotChange() {
    SyncStatus done = status(1000, 1000, 100_000_000, 100_000_000, 10_000, 14_000, false);
    SyncProgress later = SyncControlService.progress(done, 60_000);
    assertThat(later.getBytesPerSecond()).isCloseTo(25_000_000, within(1.0));
    assertThat(later.getEtaSeconds()).isZero();
    assertThat(SyncControlService.toProto(done, 60_000)).isEqualTo(SyncControlService.toProto(done, 90_000));
  }
}
