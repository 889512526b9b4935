package dev.thunderlink.daemon.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ShutdownCoordinatorTest {
  final List<String> events = Collections.synchronizedList(new ArrayList<>());

  ShutdownCoordinator.Participant recording(String name, CompletableFuture<Void> drain, List<String> cuts) {
    return ShutdownCoordinator.Participant.of(
        name,
        () -> events.add(name + " stop"),
        () -> {
          events.add(name + " drain");
          return drain;
        },
        () -> {
          events.add(name + " force");
          return cuts;
        },
        () -> events.add(name + " close"));
  }

  @Test
  void stopsAcceptingThenDrainsThenClosesInReverse() {
    ShutdownCoordinator c = new ShutdownCoordinator(Duration.ofSeconds(10));
    c.register(recording("link", CompletableFuture.completedFuture(null), List.of()));
    c.register(recording("sync", CompletableFuture.completedFuture(null), List.of()));
    ShutdownCoordinator.Report r = c.shutdown();
    assertThat(events)
        .containsExactly("link stop", "sync stop", "link drain", "sync drain", "sync close", "link close");
    assertThat(r.drained()).containsExactly("link", "sync");
    assertThat(r.forced()).isFalse();
    assertThat(r.errors()).isEmpty();
  }

  @Test
  void workThatDoesNotDrainIsCutAtTheDeadlineAndNamed() {
    ShutdownCoordinator c = new ShutdownCoordinator(Duration.ofMillis(200));
    c.register(recording("link", CompletableFuture.completedFuture(null), List.of()));
    c.register(recording("bulk", new CompletableFuture<>(), List.of("transfer big.bin 40% (resumes on restart)")));
    ShutdownCoordinator.Report r = c.shutdown();
    assertThat(r.drained()).containsExactly("link");
    assertThat(r.cut()).containsExactly("bulk: transfer big.bin 40% (resumes on restart)");
    assertThat(r.took()).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    assertThat(events).containsSubsequence("bulk drain", "bulk force", "bulk close", "link close");
    assertThat(r.summary()).contains("cut at the deadline: bulk: transfer big.bin 40% (resumes on restart)");
  }

  @Test
  void aFailingParticipantDoesNotStopTheOthers() {
    ShutdownCoordinator c = new ShutdownCoordinator(Duration.ofSeconds(1));
    c.register(ShutdownCoordinator.Participant.of(
        "broken",
        () -> {
          throw new IllegalStateException("listener already closed");
        },
        () -> CompletableFuture.failedFuture(new IllegalStateException("drain exploded")),
        List::of,
        () -> {
          throw new java.io.IOException("disk full");
        }));
    c.register(recording("sync", CompletableFuture.completedFuture(null), List.of()));
    ShutdownCoordinator.Report r = c.shutdown();
    assertThat(r.drained()).containsExactly("sync");
    assertThat(r.errors())
        .containsExactly(
            "broken: stop accepting failed: java.lang.IllegalStateException: listener already closed",
            "broken: drain failed: java.lang.IllegalStateException: drain exploded",
            "broken: close failed: java.io.IOException: disk full");
    assertThat(events).contains("sync close");
  }

  @Test
  void secondCallerGetsTheSameReportAndLateRegistrationIsRefused() throws Exception {
    ShutdownCoordinator c = new ShutdownCoordinator(Duration.ofSeconds(5));
    CompletableFuture<Void> slow = new CompletableFuture<>();
    c.register(recording("bulk", slow, List.of()));
    ExecutorService ex = Executors.newFixedThreadPool(2);
    try {
      Future<ShutdownCoordinator.Report> first = ex.submit(c::shutdown);
      // the first caller is inside drain once "bulk drain" is recorded
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!events.contains("bulk drain") && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      Future<ShutdownCoordinator.Report> second = ex.submit(c::shutdown);
      assertThatThrownBy(() -> c.register(recording("late", slow, List.of())))
          .hasMessage("shutdown already started; cannot register late");
      slow.complete(null);
      assertThat(second.get(10, TimeUnit.SECONDS)).isSameAs(first.get(10, TimeUnit.SECONDS));
      assertThat(events.stream().filter("bulk stop"::equals)).hasSize(1);
    } finally {
      ex.shutdownNow();
    }
  }

  @Test
  void inFlightWorkDrainsWhenTheLastTicketCloses() throws Exception {
    InFlightWork work = new InFlightWork();
    InFlightWork.Ticket a = work.begin("stream qwen3:8b", () -> events.add("cut a"));
    ShutdownCoordinator c = new ShutdownCoordinator(Duration.ofSeconds(10));
    c.register(work.participant("inference", () -> events.add("closed")));
    ExecutorService ex = Executors.newSingleThreadExecutor();
    try {
      Future<ShutdownCoordinator.Report> f = ex.submit(c::shutdown);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      boolean refused = false;
      while (!refused && System.nanoTime() < deadline) {
        try {
          work.begin("late request", () -> {}).close();
        } catch (IllegalStateException e) {
          assertThat(e).hasMessage("the daemon is shutting down; not starting late request");
          refused = true;
        }
      }
      assertThat(refused).isTrue();
      a.close();
      ShutdownCoordinator.Report r = f.get(10, TimeUnit.SECONDS);
      assertThat(r.drained()).containsExactly("inference");
      assertThat(r.cut()).isEmpty();
      assertThat(events).containsExactly("closed");
    } finally {
      ex.shutdownNow();
    }
  }

  @Test
  void negativeGraceIsRefused() {
    assertThatThrownBy(() -> new ShutdownCoordinator(Duration.ofSeconds(-1)))
        .hasMessage("shutdown grace: -1000 ms (expected: >= 0)");
  }
}
