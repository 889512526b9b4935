package dev.thunderlink.inference.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.inference.Await;
import dev.thunderlink.inference.OllamaSimulator;
import dev.thunderlink.inference.SchedulerConfig;
import dev.thunderlink.inference.SimulatedModel;
import dev.thunderlink.inference.SimulatorConfig;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The scheduler in front of the real simulator over loopback HTTP. */
class ModelSchedulerTest {
  static final long GB = 1_000_000_000L;
  static final ModelScheduler.RequestClass BATCH = ModelScheduler.RequestClass.BATCH;
  static final ModelScheduler.RequestClass INTERACTIVE = ModelScheduler.RequestClass.INTERACTIVE;

  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private OllamaSimulator sim;
  private HostInference host;

  static SimulatorConfig.Builder simConfig() {
    return SimulatorConfig.builder().timeScale(1000).memoryLimitBytes(48 * GB)
        .model(SimulatedModel.of("a:32b", 20 * GB))
        .model(SimulatedModel.of("b:70b", 40 * GB))
        .model(SimulatedModel.of("small:3b", 2 * GB))
        .defaultResponseTokens(8);
  }

  private HostInference start(SimulatorConfig.Builder s, SchedulerConfig.Builder c) {
    sim = OllamaSimulator.start(s.build());
    host = new HostInference(List.of(upstream(sim.baseUri(), sim.config().numParallel(), Duration.ofSeconds(30))), c.build());
    host.start().join();
    return host;
  }

  OllamaUpstream upstream(URI uri, int parallel, Duration idle) {
    return new OllamaUpstream("sim", uri, parallel, Duration.ofSeconds(2), Duration.ofSeconds(30), idle, timer);
  }

  @AfterEach
  void stop() {
    if (host != null) {
      host.close();
    }
    if (sim != null) {
      sim.close();
    }
    timer.shutdownNow();
  }

  private Collect call(String model, ModelScheduler.RequestClass rc, ObjectNode body) {
    Collect c = new Collect();
    body.put("model", model);
    host.stream("/api/chat", body, rc, c).request(Long.MAX_VALUE);
    return c;
  }

  private Collect call(String model, ModelScheduler.RequestClass rc) {
    return call(model, rc, Collect.chat(model, "hello"));
  }

  private ModelScheduler.Snapshot snapshot() {
    return host.scheduler().snapshot().join();
  }

  @Test
  void alternatingModelsAreGroupedSoEachLoadsOnce() {
    start(simConfig(), SchedulerConfig.builder().linger(Duration.ZERO));
    List<Collect> calls = new ArrayList<>();
    for (String m : List.of("a:32b", "b:70b", "a:32b", "b:70b", "a:32b", "b:70b")) {
      calls.add(call(m, BATCH));
    }
    calls.forEach(c -> c.done.join());
    // A A A then B B B
    assertThat(calls.get(4).endNanos).isLessThan(calls.get(1).firstNanos);
    assertThat(sim.counters().loads()).isEqualTo(2);
    // The scheduler unloaded a:32b itself; the simulator never had to evict.
    assertThat(sim.counters().evictions()).isZero();
    assertThat(sim.counters().unloads()).isEqualTo(1);
    ModelScheduler.Snapshot s = snapshot();
    assertThat(s.loads()).isEqualTo(2);
    assertThat(s.swaps()).isEqualTo(1);
    assertThat(s.completed()).isEqualTo(6);
    assertThat(s.queues()).isEmpty();
  }

  @Test
  void sameAlternationStraightToTheSimulatorLoadsEveryTime() throws Exception {
    // The baseline the scheduler beats: Ollama's FIFO with head-of-line blocking.
    sim = OllamaSimulator.start(simConfig().build());
    OllamaUpstream direct = upstream(sim.baseUri(), 1, Duration.ofSeconds(30));
    List<Collect> calls = new ArrayList<>();
    for (String m : List.of("a:32b", "b:70b", "a:32b", "b:70b")) {
      Collect c = new Collect();
      direct.stream("/api/chat", Collect.chat(m, "hello"), c).request(Long.MAX_VALUE);
      calls.add(c);
      Await.until(Duration.ofSeconds(5), "request arrives", () -> sim.counters().requests() == calls.size());
    }
    calls.forEach(c -> c.done.join());
    assertThat(sim.counters().loads()).isEqualTo(4);
  }

  @Test
  void interactiveGoesBeforeQueuedBatchWork() {
    // 4000 tokens: each batch request runs ~100 ms here (40 tokens/s, time x1000), far longer than
    // the interactive request takes to arrive; with 200 (5 ms) a pause on a busy machine let the
    // next batch request start first (CI, once)
    start(simConfig().numParallel(1).defaultResponseTokens(4000), SchedulerConfig.builder()
        .linger(Duration.ofMillis(50)).maxGroupWait(Duration.ofSeconds(10)).agingAfter(Duration.ofSeconds(10)));
    List<Collect> batch = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      batch.add(call("b:70b", BATCH));
    }
    Await.until(Duration.ofSeconds(5), "first batch request runs", () -> batch.get(0).firstNanos != 0);
    Collect interactive = call("a:32b", INTERACTIVE);
    interactive.done.join();
    batch.forEach(c -> c.done.join());
    // The interactive request waited only for the batch request in flight, not the queue.
    long laterBatchDone = batch.stream().mapToLong(c -> c.endNanos).filter(t -> t > interactive.endNanos).count();
    assertThat(laterBatchDone).isEqualTo(3);
    assertThat(snapshot().waits().get(INTERACTIVE).count()).isEqualTo(1);
  }

  @Test
  void agedBatchRequestIsNotOvertakenForever() {
    start(simConfig().numParallel(1).defaultResponseTokens(400), SchedulerConfig.builder()
        .agingAfter(Duration.ofMillis(30)));
    Collect first = call("a:32b", INTERACTIVE);
    Await.until(Duration.ofSeconds(5), "first runs", () -> first.firstNanos != 0);
    Collect batch = call("a:32b", BATCH);
    // Interactive requests keep coming, but once the batch request has aged it goes first.
    List<Collect> later = new ArrayList<>();
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(60);
    while (System.nanoTime() < until || later.size() < 2) {
      later.add(call("a:32b", INTERACTIVE));
      Await.until(Duration.ofSeconds(5), "queued", () -> true);
      if (later.size() > 8) {
        break;
      }
    }
    batch.done.join();
    later.forEach(c -> c.done.join());
    long overtakenBy = later.stream().filter(c -> c.firstNanos < batch.firstNanos).count();
    assertThat(overtakenBy).isLessThan(later.size());
  }

  @Test
  void aStarvingModelIsLoadedAfterMaxGroupWait() {
    start(simConfig().defaultResponseTokens(40), SchedulerConfig.builder()
        .maxGroupWait(Duration.ofMillis(100)).linger(Duration.ofSeconds(60)));
    List<Collect> a = new ArrayList<>();
    a.add(call("a:32b", BATCH));
    Collect b = call("b:70b", BATCH);
    // keep a:32b busy with a continuous queue
    while (!b.done.isDone()) {
      a.add(call("a:32b", BATCH));
      a.get(a.size() - 2).done.join();
      if (a.size() > 400) {
        break;
      }
    }
    assertThat(b.done.join()).isNotEmpty();
    long waitedMs = TimeUnit.NANOSECONDS.toMillis(b.firstNanos - b.startNanos);
    assertThat(waitedMs).isGreaterThanOrEqualTo(100).isLessThan(5000);
    a.forEach(c -> c.done.join());
  }

  @Test
  void differentNumCtxNeverForcesAReload() {
    start(simConfig(), SchedulerConfig.builder().pin("a:32b", Map.of("num_ctx", 16384)));
    for (int ctx : new int[] {2048, 8192, 32768, 4096}) {
      ObjectNode body = Collect.chat("a:32b", "x");
      body.putObject("options").put("num_ctx", ctx).put("temperature", 0.2);
      call("a:32b", BATCH, body).done.join();
    }
    assertThat(sim.counters().loads()).isEqualTo(1);
    assertThat(sim.counters().reloads()).isZero();
    assertThat(snapshot().loaded().get(0).pinnedOptionsJson()).isEqualTo("{\"num_ctx\":16384}");
  }

  @Test
  void firstRequestsOptionsArePinnedWhenNoneConfigured() {
    start(simConfig(), SchedulerConfig.builder());
    ObjectNode first = Collect.chat("a:32b", "x");
    first.putObject("options").put("num_ctx", 8192);
    call("a:32b", BATCH, first).done.join();
    call("a:32b", BATCH, Collect.chat("a:32b", "y")).done.join();
    assertThat(sim.counters().loads()).isEqualTo(1);
    assertThat(snapshot().loaded().get(0).pinnedOptionsJson()).isEqualTo("{\"num_ctx\":8192}");
  }

  @Test
  void neverMoreInFlightThanTheUpstreamsSlots() {
    start(simConfig().numParallel(2).defaultResponseTokens(50), SchedulerConfig.builder());
    List<Collect> calls = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      calls.add(call("a:32b", BATCH));
    }
    calls.forEach(c -> c.done.join());
    assertThat(sim.counters().maxConcurrentRequests()).isEqualTo(2);
  }

  @Test
  void twoModelsThatFitTheBudgetStayLoaded() {
    start(simConfig(), SchedulerConfig.builder().maxLoadedModels(2).memoryBudgetBytes(45 * GB)
        .linger(Duration.ZERO));
    for (int i = 0; i < 3; i++) {
      call("a:32b", BATCH).done.join();
      call("small:3b", BATCH).done.join();
    }
    assertThat(sim.counters().loads()).isEqualTo(2);
    assertThat(snapshot().loaded()).hasSize(2);
    // b:70b does not fit next to anything: both are unloaded first
    call("b:70b", BATCH).done.join();
    assertThat(snapshot().loaded()).extracting(ModelScheduler.Loaded::name).containsExactlyInAnyOrder("small:3b", "b:70b");
    assertThat(sim.counters().evictions()).isZero();
  }

  @Test
  void aWaiterThatLeavesNeverCausesALoad() {
    // a's streams outlast the test (400,000 tokens) and are cancelled at the end: had they ended
    // on their own (400 tokens took ~10 ms), a swap to b could start before b's waiter left, and
    // the unload of a that began it is a step no cancel can take back (CI saw that once)
    start(simConfig().defaultResponseTokens(400_000), SchedulerConfig.builder().linger(Duration.ofSeconds(60))
        .maxGroupWait(Duration.ofSeconds(60)));
    Collect a = new Collect();
    HostInference.Call aCall = host.stream("/api/chat", Collect.chat("a:32b", "hello"), BATCH, a);
    aCall.request(Long.MAX_VALUE);
    Await.until(Duration.ofSeconds(5), "a runs", () -> a.firstNanos != 0);
    Collect bWaiter = new Collect();
    HostInference.Call b = host.stream("/api/chat", Collect.chat("b:70b", "x"), BATCH, bWaiter);
    b.request(Long.MAX_VALUE);
    Await.until(Duration.ofSeconds(5), "b queued", () -> snapshot().queues().size() == 1);
    b.cancel();
    Await.until(Duration.ofSeconds(5), "queue empty", () -> snapshot().queues().isEmpty());
    assertThat(a.done).as("a still streaming when b's waiter left").isNotDone();
    aCall.cancel();
    Await.until(Duration.ofSeconds(5), "a's slot freed", () -> snapshot().loaded().get(0).inFlight() == 0);
    assertThat(sim.counters().loadsByModel()).doesNotContainKey("b:70b");
    assertThat(snapshot().cancelled()).as("b's waiter that left the queue, and a left while running").isEqualTo(2);
    assertThat(snapshot().completed()).isZero();
    // and interactive-triggered swap abandoned when the interactive waiter leaves
    Collect a2 = new Collect();
    HostInference.Call a2Call = host.stream("/api/chat", Collect.chat("a:32b", "hello"), BATCH, a2);
    a2Call.request(Long.MAX_VALUE);
    Await.until(Duration.ofSeconds(5), "a2 runs", () -> a2.firstNanos != 0);
    Collect c = new Collect();
    HostInference.Call bi = host.stream("/api/chat", Collect.chat("b:70b", "x"), INTERACTIVE, c);
    bi.request(Long.MAX_VALUE);
    Await.until(Duration.ofSeconds(5), "b queued", () -> snapshot().queues().size() == 1);
    bi.cancel();
    Await.until(Duration.ofSeconds(5), "queue empty", () -> snapshot().queues().isEmpty());
    assertThat(a2.done).as("a2 still streaming when b's waiter left").isNotDone();
    a2Call.cancel();
    Await.until(Duration.ofSeconds(5), "a2's slot freed", () -> snapshot().loaded().get(0).inFlight() == 0);
    assertThat(sim.counters().loadsByModel()).doesNotContainKey("b:70b");
    assertThat(snapshot().loaded()).extracting(ModelScheduler.Loaded::name).containsExactly("a:32b");
  }

  @Test
  void cancellingARunningRequestReachesTheUpstreamQuickly() {
    start(simConfig().timeScale(1).defaultResponseTokens(100_000).model(SimulatedModel.of("tiny:1b", 1000)),
        SchedulerConfig.builder());
    Collect c = new Collect();
    HostInference.Call call = host.stream("/api/chat", Collect.chat("tiny:1b", "x"), INTERACTIVE, c);
    call.request(Long.MAX_VALUE);
    Await.until(Duration.ofSeconds(10), "tokens flow", () -> c.objects.size() >= 2);
    long t0 = System.nanoTime();
    call.cancel();
    Await.until(Duration.ofSeconds(5), "simulator sees the cancel", () -> sim.counters().cancelled() == 1);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    System.out.println("cancellation reached the upstream in " + ms + " ms");
    Await.until(Duration.ofSeconds(5), "slot freed", () -> snapshot().loaded().get(0).inFlight() == 0);
    // counted once, as cancelled (it read "completed 1, cancelled 0" in `thunderlink models`)
    Await.until(Duration.ofSeconds(5), "counted", () -> snapshot().cancelled() + snapshot().completed() == 1);
    assertThat(snapshot().cancelled()).isEqualTo(1);
    assertThat(snapshot().completed()).isZero();
  }

  @Test
  void unknownModelFailsWithoutQueueing() {
    start(simConfig(), SchedulerConfig.builder());
    Collect c = call("nope:1b", BATCH);
    assertThatThrownBy(() -> c.done.join()).hasCauseInstanceOf(UpstreamException.class)
        .hasMessageContaining("model \"nope:1b\" not found");
    assertThat(snapshot().queues()).isEmpty();
  }

  @Test
  void upstreamDownFailsTheRequestAndFreesTheSlot() {
    start(simConfig(), SchedulerConfig.builder());
    call("a:32b", BATCH).done.join();
    sim.close();
    Collect c = call("a:32b", BATCH);
    assertThatThrownBy(() -> c.done.join()).hasCauseInstanceOf(UpstreamException.class);
    ModelScheduler.Snapshot s = snapshot();
    assertThat(s.queues()).isEmpty();
    assertThat(s.loaded().get(0).inFlight()).isZero();
    sim = null;
  }

  @Test
  void upstreamErrorStatusIsPassedOn() {
    start(simConfig(), SchedulerConfig.builder());
    ObjectNode body = Collect.chat("a:32b", "x");
    body.put("keep_alive", "soon"); // the simulator answers 400
    // the scheduler overwrites keep_alive, so break the messages instead
    body.put("messages", "not an array");
    Collect c = call("a:32b", BATCH, body);
    assertThatThrownBy(() -> c.done.join()).cause().isInstanceOf(UpstreamException.class)
        .satisfies(e -> assertThat(((UpstreamException) e).status()).isEqualTo(400));
    assertThat(snapshot().loaded().get(0).inFlight()).isZero();
  }

  @Test
  void slowUpstreamTimesOutAndFreesTheSlot() {
    sim = OllamaSimulator.start(simConfig().timeScale(1).evalTokensPerSecond(0.5)
        .model(SimulatedModel.of("tiny:1b", 1000)).build());
    host = new HostInference(List.of(upstream(sim.baseUri(), 1, Duration.ofMillis(200))), SchedulerConfig.defaults());
    host.start().join();
    Collect c = call("tiny:1b", BATCH);
    assertThatThrownBy(() -> c.done.join()).hasMessageContaining("sent nothing for 200 ms");
    Await.until(Duration.ofSeconds(5), "slot freed", () -> snapshot().loaded().get(0).inFlight() == 0);
    Await.until(Duration.ofSeconds(5), "simulator sees the abort", () -> sim.counters().cancelled() == 1);
  }

  @Test
  void aModelLargerThanTheBudgetIsRejectedAtOnce() {
    start(simConfig(), SchedulerConfig.builder().memoryBudgetBytes(30 * GB));
    Collect c = call("b:70b", BATCH);
    assertThatThrownBy(() -> c.done.join()).hasMessageContaining("needs 40.0 GB, more than the memory budget of 30.0 GB");
    assertThat(snapshot().queues()).isEmpty();
  }

  @Test
  void anIdleModelIsUnloadedAfterIdleUnloadAfter() {
    start(simConfig(), SchedulerConfig.builder().idleUnloadAfter(Duration.ofMillis(100)));
    call("a:32b", BATCH).done.join();
    Await.until(Duration.ofSeconds(5), "idle unload", () -> sim.counters().unloads() == 1);
    assertThat(snapshot().loaded()).isEmpty();
    assertThat(snapshot().unloads()).isEqualTo(1);
    // and it comes back on demand
    call("a:32b", BATCH).done.join();
    assertThat(sim.counters().loads()).isEqualTo(2);
  }

  @Test
  void configRejectsBadValues() {
    assertThatThrownBy(() -> SchedulerConfig.builder().maxLoadedModels(0).linger(Duration.ofSeconds(-1))
        .pin("x", Map.of("temperature", 1)).build())
        .hasMessageContaining("maxLoadedModels: 0 (expected: >= 1)")
        .hasMessageContaining("linger: PT-1S (expected: >= 0)")
        .hasMessageContaining("pinnedOptions[x:latest].temperature: not a load-time option");
  }
}
