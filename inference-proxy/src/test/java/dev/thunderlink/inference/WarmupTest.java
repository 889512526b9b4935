package dev.thunderlink.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.proto.inference.SchedulerStatusResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The start-up warm-up ({@link Warmup}): it runs its requests on a private pair of its own, so
 * the configured upstream, the host's scheduler and the workstation's link never see them; it
 * can be off; closing the host or the workstation during it stops it and waits for it.
 */
class WarmupTest {
  static final String MODEL = "coder:32b";

  static InferenceHostConfig.Builder host(int warmup) {
    return InferenceHostConfig.builder()
        .simulator(SimulatorConfig.builder().timeScale(1000).model(SimulatedModel.of(MODEL, 20_000_000_000L)).build())
        .noLocalFront().warmup(warmup);
  }

  static ch.qos.logback.classic.Logger root() {
    return (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  /** A started list appender, for a test to attach to {@link #root()} and detach when done. */
  static ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> started() {
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> a = new ch.qos.logback.core.read.ListAppender<>();
    a.start();
    return a;
  }

  @Test
  void hostWarmupRunsItsRequestsWithoutTheUpstreamOrTheScheduler() throws Exception {
    ch.qos.logback.classic.Logger root = root();
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged = started();
    try (InferenceHost h = InferenceHost.start(host(40).build())) {
      root.addAppender(logged);
      Warmup w = h.startWarmup().orElseThrow();
      assertThat(h.startWarmup()).containsSame(w); // once
      Warmup.Report r = w.done().get(60, TimeUnit.SECONDS);
      root.detachAppender(logged);
      // one line: its private simulator, front and scheduler say nothing (no "loading ..." of its model)
      assertThat(logged.list.stream().filter(e -> e.getLoggerName().startsWith("dev.thunderlink"))
              .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage()))
          .singleElement().asString().startsWith(Warmup.class.getName() + ": inference warm-up").contains("40 requests");
      assertThat(r.outcome()).isEqualTo("done");
      assertThat(r.requests()).isEqualTo(40);
      assertThat(w.completedRequests()).isEqualTo(40);
      assertThat(r.wall()).isPositive();
      // the configured upstream (here the host's simulator) got no chat/generate, loaded nothing
      OllamaSimulator.Counters c = h.simulator().orElseThrow().counters();
      assertThat(c.requests()).isZero();
      assertThat(c.loads()).isZero();
      // the host's scheduler (`thunderlink models`, the metrics) saw nothing
      SchedulerStatusResponse s = h.schedulerStatus();
      assertThat(s.getLoadedList()).isEmpty();
      assertThat(s.getQueuesList()).isEmpty();
      assertThat(s.getLoads()).isZero();
      assertThat(s.getCompleted()).isZero();
      assertThat(s.getCancelled()).isZero();
      assertThat(s.getFailed()).isZero();
      s.getWaitsList().forEach(wait -> assertThat(wait.toString()).doesNotContainPattern("count: [1-9]"));
    } finally {
      root.detachAppender(logged);
    }
  }

  @Test
  void workstationWarmupSendsNothingOverTheLink() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    ManagedChannel nowhere = InProcessChannelBuilder.forName("warmup-test-no-host-" + System.nanoTime()).build();
    Channel link = ClientInterceptors.intercept(nowhere, new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> m, CallOptions o, Channel next) {
        calls.incrementAndGet();
        return next.newCall(m, o);
      }
    });
    try (InferenceWorkstation ws = InferenceWorkstation.start(FrontConfig.builder().port(0).warmup(20).build(), link)) {
      Warmup.Report r = ws.startWarmup().orElseThrow().done().get(60, TimeUnit.SECONDS);
      assertThat(r.outcome()).isEqualTo("done");
      assertThat(r.requests()).isEqualTo(20);
      assertThat(calls).hasValue(0);
    } finally {
      nowhere.shutdownNow();
    }
  }

  @Test
  void aFrontThatAnswersAnErrorEndsTheWarmupWithOneWarningAndClosesItsServers() throws Exception {
    ch.qos.logback.classic.Logger root = root();
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged = started();
    root.addAppender(logged);
    Warmup.Report r;
    try {
      // its private simulator holds only the warm-up's model: the front answers 404 to the first request
      r = Warmup.startAsking("no-such-model:1b", 50).done().get(60, TimeUnit.SECONDS);
    } finally {
      root.detachAppender(logged);
    }
    assertThat(r.requests()).isZero();
    assertThat(r.outcome()).startsWith("failed: ").contains("the warm-up's front answered HTTP/1.1 404");
    assertThat(logged.list.stream().filter(e -> e.getLoggerName().equals(Warmup.class.getName())))
        .singleElement().satisfies(e -> {
          assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
          assertThat(e.getFormattedMessage()).startsWith("inference warm-up").contains("0 requests", "404");
        });
    // ended: its thread is gone, and a later warm-up in the same JVM still runs
    Await.until(Duration.ofSeconds(10), "the warm-up's thread to end", () -> Thread.getAllStackTraces().keySet()
        .stream().noneMatch(t -> t.isAlive() && t.getName().equals("thunderlink-inference-warmup")));
    try (InferenceHost h = InferenceHost.start(host(8).build())) {
      Warmup.Report again = h.startWarmup().orElseThrow().done().get(60, TimeUnit.SECONDS);
      assertThat(again.outcome()).isEqualTo("done");
      assertThat(again.requests()).isEqualTo(8);
    }
  }

  @Test
  void offByDefaultAndWithZero() {
    try (InferenceHost h = InferenceHost.start(host(0).build())) {
      assertThat(h.startWarmup()).isEmpty();
      assertThat(h.warmup()).isEmpty();
    }
    ManagedChannel nowhere = InProcessChannelBuilder.forName("warmup-test-off-" + System.nanoTime()).build();
    try (InferenceWorkstation ws = InferenceWorkstation.start(FrontConfig.builder().port(0).build(), nowhere)) {
      assertThat(ws.startWarmup()).isEmpty();
    } finally {
      nowhere.shutdownNow();
    }
  }

  @Test
  void negativeCountsAreRefused() {
    assertThatThrownBy(() -> host(-1).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("warmup: -1 (expected: >= 0 requests; 0 = none)");
    assertThatThrownBy(() -> FrontConfig.builder().warmup(-5).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("warmup: -5 (expected: >= 0 requests; 0 = none)");
  }

  @Test
  void closingTheHostDuringTheWarmupStopsItAndWaitsForIt() throws Exception {
    InferenceHost h = InferenceHost.start(host(1_000_000).build());
    Warmup w = h.startWarmup().orElseThrow();
    Await.until(Duration.ofSeconds(60), "the warm-up to be under way", () -> w.completedRequests() >= 3 || w.done().isDone());
    h.close();
    // close() returned: the warm-up has ended, its private servers are closed
    assertThat(w.done()).isDone();
    Warmup.Report r = w.done().join();
    assertThat(r.outcome()).isEqualTo("stopped: closing");
    assertThat(r.requests()).isBetween(3, 999_999);
    assertThat(Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName))
        .doesNotContain("thunderlink-inference-warmup");
    assertThat(h.simulator().orElseThrow().counters().requests()).isZero();
    assertThat(h.startWarmup()).isEmpty(); // closed: none again
  }

  @Test
  void aHostAndAWorkstationInOneJvmShareOneWarmupUntilBothClose() throws Exception {
    ManagedChannel nowhere = InProcessChannelBuilder.forName("warmup-test-shared-" + System.nanoTime()).build();
    InferenceHost h = InferenceHost.start(host(1_000_000).build());
    InferenceWorkstation ws = null;
    try {
      ws = InferenceWorkstation.start(FrontConfig.builder().port(0).warmup(1_000_000).build(), nowhere);
      Warmup w = h.startWarmup().orElseThrow();
      assertThat(ws.startWarmup()).containsSame(w);
      h.close();
      h = null;
      assertThat(w.done()).isNotDone(); // the workstation still uses it
      ws.close();
      ws = null;
      assertThat(w.done()).isDone();
      assertThat(w.done().join().outcome()).isEqualTo("stopped: closing");
    } finally {
      if (h != null) h.close();
      if (ws != null) ws.close();
      nowhere.shutdownNow();
    }
  }
}
