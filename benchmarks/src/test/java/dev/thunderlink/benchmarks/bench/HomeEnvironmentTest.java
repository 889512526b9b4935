package dev.thunderlink.benchmarks.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.benchmarks.internal.ByteSinkService;
import dev.thunderlink.benchmarks.internal.LinkPair;
import dev.thunderlink.inference.InferenceHost;
import dev.thunderlink.sync.SyncHostService;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkServer;
import dev.thunderlink.transport.LinkPath;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --path} mode against a real host: a LinkServer on loopback with the services the host
 * daemon registers (the bulk plane on the same port, the inference host over its SIMULATED model
 * server, the bench's byte sink) and a workstation home paired with it by the real exchange. The
 * bench must use that home's pairing, measure what a real host allows (ping, gRPC, bulk with
 * {@code --host-dir}, first token through a front and the link), run the host-side scheduler once,
 * and say why the rest is missing instead of failing.
 */
class HomeEnvironmentTest {

  @Test
  void pairedHomeMeasuresWhatARealHostAllowsAndExplainsTheRest(@TempDir Path roots) throws Exception {
    BulkConfig hostBulk = BulkConfig.defaults(List.of(roots));
    Path hostState = roots.resolve("host-sync-state");
    try (InferenceHost inference = TokenStreamSuite.startHost();
        SyncHostService hostSync = new SyncHostService(hostState, "mini", true, java.time.Duration.ofMillis(10), List.of(roots));
        LinkPair host = LinkPair.start((b, peers) -> {
          BulkServer bulk = new BulkServer(hostBulk, peers);
          b.addService(bulk.controlService()).bulk(bulk);
        }, ByteSinkService.definition(), inference.linkService().bindService(), hostSync.bindService())) {
      LinkPath path = LinkPath.parse("tb=127.0.0.1:" + host.hostAddress().getPort());
      BenchResults results;
      // absolute, as a sync session's root on the host must be; the bulk suites take it too
      String hostDir = roots.resolve("scratch").toString();
      try (HomeEnvironment env = HomeEnvironment.start(host.workstationHome(), List.of(path), hostDir);
          BenchProgress progress = new BenchProgress.Lines(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), 1)) {
        assertThat(env.targets()).hasSize(1);
        assertThat(env.targets().get(0).label()).isEqualTo("Thunderbolt");
        results = new BenchRun(env, BenchSuites.builtIn(), new BenchBudget(0.02), progress, Clock.systemUTC()).run();
      }
      BenchResults.SuiteResult rtt = suite(results, "round-trip");
      BenchResults.SuiteResult tput = suite(results, "throughput");
      BenchResults.SuiteResult bulk = suite(results, "bulk-modes");
      BenchResults.SuiteResult sync = suite(results, "sync");
      BenchResults.SuiteResult tokens = suite(results, "token-stream");
      BenchResults.SuiteResult scheduler = suite(results, "scheduler");
      assertThat(rtt.cell("ping-p50", "tb").value()).isPositive();
      assertThat(tput.cell("grpc-stream", "tb").value()).isPositive();
      // the real bulk client into the host's directory, every mode (loopback allows plaintext)
      for (String metric : List.of("random-auto", "random-zero-copy", "random-heap", "random-lz4", "random-tls",
          "random-grpc", "tree-auto", "tree-tls", "tree-grpc")) {
        assertThat(bulk.cell(metric, "tb").value()).as(metric + ": " + bulk.cell(metric, "tb").unavailable()).isPositive();
      }
      assertThat(roots.resolve("scratch/thunderlink-bench-tb/bench-modes/random")).isRegularFile();
      // no PeerServer on ports 7101/7102 here (unless someone runs one): the row says how to get it
      if (!rtt.cell("echo-p50", "tb").present()) {
        assertThat(rtt.cell("echo-p50", "tb").unavailable()).contains("PeerServer");
        assertThat(tput.cell("raw-tcp", "tb").unavailable()).contains("PeerServer");
      }
      // the mirror into the host directory, timed by what the session says the host applied
      for (String metric : List.of("initial", "edit-p50", "edit-p99", "ten-files")) {
        assertThat(sync.cell(metric, "tb").value()).as(metric + ": " + sync.cell(metric, "tb").unavailable()).isPositive();
      }
      assertThat(sync.cell("edit-back-p50", "tb").unavailable()).contains("--emulate");
      try (java.util.stream.Stream<Path> left = java.nio.file.Files.walk(roots.resolve("scratch/thunderlink-bench-tb"))) {
        assertThat(left.filter(p -> p.toString().contains("/sync-")).filter(java.nio.file.Files::isRegularFile))
            .as("the mirror's tree, deleted through the session at the end").isEmpty();
      }
      // first token through a front of our own over the path, with the host's own (smallest) model
      assertThat(tokens.cell("ttft", "tb").value()).isPositive();
      assertThat(tokens.cell("ttft-direct", "tb").unavailable()).contains("not reachable");
      assertThat(tokens.notes).anyMatch(n -> n.contains(TokenStreamSuite.MODEL));
      // host side: once, in its own column
      assertThat(scheduler.cell("loads", BenchResults.HOST).value()).isPositive();
      assertThat(scheduler.cells.get("loads")).containsOnlyKeys(BenchResults.HOST);
      assertThat(BenchMain.summary(results, sync)).contains("not measured: needs to write in the host's copy");
    }
  }

  @Test
  void withoutHostDirTheBulkSuitesSayHowToGetThem() throws Exception {
    try (LinkPair host = LinkPair.start(ByteSinkService.definition())) {
      LinkPath path = LinkPath.parse("tb=127.0.0.1:" + host.hostAddress().getPort());
      BenchResults results;
      try (HomeEnvironment env = HomeEnvironment.start(host.workstationHome(), List.of(path));
          BenchProgress progress = new BenchProgress.Lines(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), 1)) {
        results = new BenchRun(env, List.of(new BulkModesSuite(), new TokenStreamSuite(), new SyncSuite()),
            new BenchBudget(0.02), progress, Clock.systemUTC()).run();
      }
      assertThat(results.suites.get(0).cell("tree-lz4", "tb").unavailable()).contains("--host-dir");
      assertThat(results.suites.get(2).cell("initial", "tb").unavailable()).contains("--host-dir DIR (absolute or ~/PATH)");
      // a host without the inference service: the row says so
      assertThat(results.suites.get(1).cell("ttft", "tb").unavailable()).contains("the host lists no models");
    }
  }

  private static BenchResults.SuiteResult suite(BenchResults r, String id) {
    return r.suites.stream().filter(s -> s.suite.id().equals(id)).findFirst().orElseThrow();
  }

  @Test
  void hostWithoutTheByteSinkIsReportedNotFailed() throws Exception {
    try (LinkPair host = LinkPair.start()) {
      LinkPath path = LinkPath.parse("tb=127.0.0.1:" + host.hostAddress().getPort());
      BenchResults results;
      try (HomeEnvironment env = HomeEnvironment.start(host.workstationHome(), List.of(path));
          BenchProgress progress = new BenchProgress.Lines(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), 1)) {
        results = new BenchRun(env, List.of(new ThroughputSuite()), new BenchBudget(0.02), progress, Clock.systemUTC()).run();
      }
      assertThat(results.suites.get(0).cell("grpc-stream", "tb").unavailable())
          .isEqualTo("the host does not serve thunderlink.bench.ByteSink");
    }
  }
}
