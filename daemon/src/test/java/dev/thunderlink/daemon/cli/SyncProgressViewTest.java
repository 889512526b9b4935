package dev.thunderlink.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.proto.synccontrol.SyncProgress;
import dev.thunderlink.proto.synccontrol.SyncSessionStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code sync create --wait}'s progress bar, driven by the statuses the daemon reports, and the status line. */
class SyncProgressViewTest {
  private final List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>(); // the poll thread adds too
  private final ByteArrayOutputStream notes = new ByteArrayOutputStream();

  private SyncProgressView view(long since) {
    return new SyncProgressView("proj", since, (task, max, bytes) -> {
      calls.add("open " + task + " max " + max + (bytes ? " bytes" : " ops"));
      return new SyncProgressView.Bar() {
        @Override
        public void stepTo(long n) {
          calls.add("to " + n);
        }

        @Override
        public void extraMessage(String m) {
          calls.add("msg" + m);
        }

        @Override
        public void close() {
          calls.add("close");
        }
      };
    }, new PrintStream(notes, true));
  }

  private static SyncSessionStatus at(long started, long ops, long opsDone, long bytes, long bytesDone, boolean active) {
    return SyncSessionStatus.newBuilder().setName("proj").setProgress(SyncProgress.newBuilder().setStartedUnixMillis(started)
        .setOps(ops).setOpsDone(opsDone).setBytes(bytes).setBytesDone(bytesDone).setActive(active)).build();
  }

  @Test
  void theBarOpensWithTheFirstPlanAndFollowsItsBytes() {
    SyncProgressView v = view(1_000);
    v.update(at(0, 0, 0, 0, 0, false)); // scanning
    v.update(at(500, 10, 10, 99, 99, false)); // a plan from before this command: not ours
    assertThat(calls).isEmpty();
    v.update(at(2_000, 20_420, 100, 173_000_000, 1_000_000, true));
    v.update(at(2_000, 20_420, 9_000, 173_000_000, 80_000_000, true));
    v.finish(at(2_000, 20_420, 20_420, 173_000_000, 173_000_000, false));
    assertThat(calls).containsExactly("open sync proj max 173000000 bytes", "to 1000000", "msg 100/20420 ops",
        "to 80000000", "msg 9000/20420 ops", "to 173000000", "msg 20420/20420 ops", "close");
  }

  @Test
  void aLaterCyclesPlanGetsABarOfItsOwnAndAPlanWithoutContentCountsOperations() {
    SyncProgressView v = view(1_000);
    v.update(at(2_000, 10, 5, 1_000, 500, true));
    v.update(at(3_000, 40, 10, 0, 0, true));
    v.close();
    assertThat(calls).containsExactly("open sync proj max 1000 bytes", "to 500", "msg 5/10 ops", "close",
        "open sync proj max 40 ops", "to 10", "msg 10/40 ops", "close");
  }

  @Test
  void theStatusLineSaysWhatIsBeingAppliedOrWhatTheLastPlanDid() {
    assertThat(SyncProgressView.line(SyncProgress.getDefaultInstance())).isNull();
    SyncProgress running = SyncProgress.newBuilder().setStartedUnixMillis(1).setOps(20_420).setOpsDone(5_000)
        .setBytes(173_457_717).setBytesDone(52_428_800).setBytesPerSecond(26_214_400).setEtaSeconds(4.62).setActive(true)
        .build();
    assertThat(SyncProgressView.line(running))
        .isEqualTo("applying: 5000 of 20420 operations, 50.0 of 165.4 MiB, 25.0 MiB/s, about 4.6 s left");
    SyncProgress done = running.toBuilder().setOpsDone(20_420).setBytesDone(173_457_717).setActive(false).setEtaSeconds(0)
        .build();
    assertThat(SyncProgressView.line(done)).isEqualTo("last plan: 20420 of 20420 operations, 165.4 MiB at 25.0 MiB/s");
    // a one-file edit reads in bytes, not as "0.0 MiB at 0.0 MiB/s"
    SyncProgress small = SyncProgress.newBuilder().setStartedUnixMillis(1).setOps(1).setOpsDone(1).setBytes(47).setBytesDone(47)
        .setBytesPerSecond(1_300).build();
    assertThat(SyncProgressView.line(small)).isEqualTo("last plan: 1 of 1 operations, 47 B at 1.3 KiB/s");
    assertThat(SyncProgressView.line(small.toBuilder().setActive(true).setBytesDone(3).setEtaSeconds(-1).build()))
        .isEqualTo("applying: 1 of 1 operations, 3 of 47 B, 1.3 KiB/s");
    assertThat(SyncProgressView.line(running.toBuilder().setBytes(3L << 30).setBytesDone(1L << 29).build()))
        .startsWith("applying: 5000 of 20420 operations, 0.5 of 3.0 GiB, 25.0 MiB/s");
  }

  @Test
  void aFailedPollIsTriedAgainAndAPollThatEndsAfterCloseDrawsNothing() throws Exception {
    SyncProgressView v = view(1_000);
    java.util.concurrent.atomic.AtomicInteger polls = new java.util.concurrent.atomic.AtomicInteger();
    v.follow(() -> {
      if (polls.incrementAndGet() == 1) {
        throw io.grpc.Status.UNAVAILABLE.asRuntimeException(); // the daemon busy or restarting
      }
      return at(2_000, 10, 5, 1_000, 500, true);
    });
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).alias("polled again after a failure")
        .until(() -> calls.contains("msg 5/10 ops"));
    v.close();
    int afterClose = calls.size();
    v.update(at(2_000, 10, 9, 1_000, 900, true)); // a poll that was under way when the command ended
    assertThat(calls).hasSize(afterClose).endsWith("close");
    assertThat(calls.get(0)).isEqualTo("open sync proj max 1000 bytes");
  }
}
