package dev.thunderlink.daemon.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.daemon.metrics.Metrics.SendMode;
import dev.thunderlink.proto.inference.LoadedModel;
import dev.thunderlink.proto.inference.SchedulerStatusResponse;
import dev.thunderlink.sync.SyncStatus;
import dev.thunderlink.transport.bulk.BulkCounters;
import dev.thunderlink.transport.bulk.TransferMode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsFeederTest {
  private final Metrics metrics = new Metrics();
  private final MetricsFeeder feeder = new MetricsFeeder(metrics);

  @Test
  void addsBulkBytesPerModeAsDeltasOfTheRealCounters() {
    BulkCounters c = new BulkCounters();
    c.addPayload(TransferMode.ZERO_COPY, 1000);
    c.addPayload(TransferMode.HEAP, 10);
    feeder.bulk(c.snapshot());
    c.addPayload(TransferMode.ZERO_COPY, 500);
    c.addPayload(TransferMode.LZ4, 7);
    c.addPayload(TransferMode.TLS, 3);
    c.fileFailed();
    feeder.bulk(c.snapshot());
    feeder.bulk(c.snapshot()); // nothing new: nothing added

    assertThat(metrics.bytesSent(SendMode.ZERO_COPY)).isEqualTo(1500);
    assertThat(metrics.bytesSent(SendMode.PLAIN)).isEqualTo(10);
    assertThat(metrics.bytesSent(SendMode.LZ4)).isEqualTo(7);
    assertThat(metrics.bytesSent(SendMode.TLS)).isEqualTo(3);
    assertThat(metrics.errors("transfer_failed")).isEqualTo(1);
    assertThat(metrics.summary()).containsEntry("thunderlink_sent_bytes_total{mode=\"zero_copy\"}", 1500.0);
  }

  @Test
  void labelsLoadsWithTheModelsThatAppearedAndTheRestUnknown() {
    feeder.scheduler(status(0, 0, 0));
    feeder.scheduler(status(1, 0, 0, "llama3"));
    // qwen swapped in for llama3; one more load came and went between polls
    feeder.scheduler(status(3, 2, 1, "qwen"));

    Map<String, Double> s = metrics.summary();
    assertThat(s).containsEntry("thunderlink_inference_model_loads_total{model=\"llama3\"}", 1.0)
        .containsEntry("thunderlink_inference_model_loads_total{model=\"qwen\"}", 1.0)
        .containsEntry("thunderlink_inference_model_loads_total{model=\"unknown\"}", 1.0);
    assertThat(metrics.modelSwaps()).isEqualTo(2);
    assertThat(metrics.errors("inference_failed")).isEqualTo(1);
  }

  @Test
  void countsSyncConflictsErrorsAndPendingWork() {
    feeder.sync(List.of(session("proj", "RUNNING", "", 1, Map.of(), 10, 4), session("docs", "RUNNING", "", 0, Map.of(), 0, 0)));
    assertThat(metrics.conflicts()).isEqualTo(1);
    assertThat(metrics.pendingChanges()).isEqualTo(6);

    feeder.sync(
        List.of(
            session("proj", "HALTED", "peer unreachable", 3, Map.of("a.txt", "permission denied"), 10, 10),
            session("docs", "RUNNING", "", 0, Map.of(), 2, 1)));
    assertThat(metrics.conflicts()).isEqualTo(3);
    assertThat(metrics.pendingChanges()).isEqualTo(1);
    assertThat(metrics.errors("sync_path")).isEqualTo(1);
    assertThat(metrics.errors("sync_session")).isEqualTo(1);
    assertThat(metrics.errors("sync_halted")).isEqualTo(1);

    // the same problems seen again are not new errors; a restarted session's count starts over
    feeder.sync(List.of(session("proj", "HALTED", "peer unreachable", 1, Map.of("a.txt", "permission denied"), 0, 0)));
    assertThat(metrics.errors("sync_path")).isEqualTo(1);
    assertThat(metrics.errors("sync_session")).isEqualTo(1);
    assertThat(metrics.errors("sync_halted")).isEqualTo(1);
    assertThat(metrics.conflicts()).isEqualTo(4);
    assertThat(metrics.pendingChanges()).isZero();
  }

  @Test
  void summaryFlattensHistogramsAndStates() {
    metrics.syncPropagated(java.time.Duration.ofMillis(250));
    metrics.pathState("tb", Metrics.PathState.ACTIVE);
    Map<String, Double> s = metrics.summary();
    assertThat(s).containsEntry("thunderlink_sync_propagation_seconds_count", 1.0)
        .containsEntry("thunderlink_sync_propagation_seconds_sum", 0.25)
        .containsEntry("thunderlink_path_state{path=\"tb\",state=\"active\"}", 1.0)
        .containsEntry("thunderlink_path_state{path=\"tb\",state=\"down\"}", 0.0);
  }

  @Test
  void queueWaitAndTimeToFirstTokenAreObservedForRealRequestsThroughTheSchedulerAndTheSimulator() throws Exception {
    dev.thunderlink.inference.SimulatorConfig sim =
        dev.thunderlink.inference.SimulatorConfig.macMini64().timeScale(1000).defaultResponseTokens(4).build();
    try (dev.thunderlink.inference.InferenceHost host =
        dev.thunderlink.inference.InferenceHost.start(
            dev.thunderlink.inference.InferenceHostConfig.builder()
                .simulator(sim)
                .localFront(dev.thunderlink.inference.FrontConfig.builder().port(0).interactive(false).build())
                .build())) {
      host.observe(feeder.inferenceEvents());
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      for (int i = 0; i < 3; i++) {
        java.net.http.HttpResponse<String> r =
            http.send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + host.localFrontAddress().orElseThrow().getPort() + "/api/generate"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\"}"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"done\":true");
      }
    }
    Map<String, Double> s = metrics.summary();
    // the host's local front is the batch class; each request waited (at least) for nothing
    assertThat(s).containsEntry("thunderlink_inference_queue_wait_seconds_count{class=\"batch\"}", 3.0);
    assertThat(s).containsEntry("thunderlink_inference_time_to_first_token_seconds_count{model=\"llama3.2:3b\"}", 3.0);
    // the first request loaded the model (simulated load time), so the first token took a while
    assertThat(s.get("thunderlink_inference_time_to_first_token_seconds_sum{model=\"llama3.2:3b\"}")).isPositive();
  }

  @Test
  void syncPropagationIsObservedForEachPathARealMirrorApplies(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
      throws Exception {
    java.nio.file.Path a = java.nio.file.Files.createDirectories(tmp.resolve("a"));
    java.nio.file.Path b = java.nio.file.Files.createDirectories(tmp.resolve("b"));
    dev.thunderlink.sync.SyncSessionConfig c =
        dev.thunderlink.sync.SyncSessionConfig.builder("m").localRoot(a).remoteRoot(b.toString())
            .stateDir(tmp.resolve("state")).deviceName("book").build();
    try (dev.thunderlink.sync.SyncSession session = dev.thunderlink.sync.SyncSession.startLocal(c, b, "mini")) {
      session.onPropagated(feeder.syncPropagations());
      session.flush(java.time.Duration.ofSeconds(30));
      double before = metrics.summary().getOrDefault("thunderlink_sync_propagation_seconds_count", 0.0);
      // written aside and renamed in, as editors save: the watcher is live (2 ms debounce), and a
      // cycle between Files.writeString's create and its write would rightly mirror the empty
      // file first and then its content, two observations for one path
      writeInto(tmp, a.resolve("one.txt"), "1");
      java.nio.file.Files.createDirectories(a.resolve("dir"));
      writeInto(tmp, a.resolve("dir/two.txt"), "2");
      session.flush(java.time.Duration.ofSeconds(30));
      assertThat(b.resolve("dir/two.txt")).hasContent("2");
      // one.txt, dir and dir/two.txt: one observation per path applied
      assertThat(metrics.summary().get("thunderlink_sync_propagation_seconds_count") - before).isEqualTo(3.0);
      assertThat(metrics.summary().get("thunderlink_sync_propagation_seconds_sum")).isPositive();
    }
  }

  private static void writeInto(java.nio.file.Path tmp, java.nio.file.Path target, String content) throws java.io.IOException {
    java.nio.file.Path aside = java.nio.file.Files.writeString(tmp.resolve(target.getFileName() + ".new"), content);
    java.nio.file.Files.move(aside, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static SchedulerStatusResponse status(long loads, long swaps, long failed, String... loaded) {
    SchedulerStatusResponse.Builder b = SchedulerStatusResponse.newBuilder().setLoads(loads).setSwaps(swaps).setFailed(failed);
    for (String m : loaded) {
      b.addLoaded(LoadedModel.newBuilder().setName(m));
    }
    return b.build();
  }

  private static SyncStatus session(
      String name, String state, String lastError, long conflicts, Map<String, String> errors, long planOps, long planOpsDone) {
    return new SyncStatus(name, "two-way", state, "", lastError, 0, 0, 0, 0, 0, 0, 0, 0, conflicts, errors, List.of(), 0,
        planOps, planOpsDone, 0, 0, 0, 0, planOps > planOpsDone, "/w", "/h", false, "", 50, 20);
  }
}
