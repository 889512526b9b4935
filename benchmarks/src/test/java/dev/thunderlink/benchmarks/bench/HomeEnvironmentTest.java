package dev.thunderlink.benchmarks.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.benchmarks.internal.ByteSinkService;
import dev.thunderlink.benchmarks.internal.LinkPair;
import dev.thunderlink.transport.LinkPath;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code --path} mode against a real host: a LinkServer on loopback (stand-in for the host daemon)
 * and a workstation home paired with it by the real exchange. The bench must use that home's
 * pairing, measure thunderlink's figures, and say why the rest is missing instead of failing.
 */
class HomeEnvironmentTest {

  @Test
  void pairedHomeMeasuresTheLinkAndExplainsWhatIsMissing() throws Exception {
    try (LinkPair host = LinkPair.start(ByteSinkService.definition())) {
      LinkPath path = LinkPath.parse("tb=127.0.0.1:" + host.hostAddress().getPort());
      BenchResults results;
      try (HomeEnvironment env = HomeEnvironment.start(host.workstationHome(), List.of(path));
          BenchProgress progress = new BenchProgress.Lines(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), 1)) {
        assertThat(env.targets()).hasSize(1);
        assertThat(env.targets().get(0).label()).isEqualTo("Thunderbolt");
        results = new BenchRun(env, BenchSuites.builtIn(), new BenchBudget(0.02), progress, Clock.systemUTC()).run();
      }
      BenchResults.SuiteResult rtt = results.suites.get(0);
      BenchResults.SuiteResult tput = results.suites.get(1);
      BenchResults.SuiteResult sync = results.suites.get(2);
      assertThat(rtt.cell("ping-p50", "tb").value()).isPositive();
      assertThat(tput.cell("grpc-stream", "tb").value()).isPositive();
      // no PeerServer on ports 7101/7102 here (unless someone runs one): the row says how to get it
      if (!rtt.cell("echo-p50", "tb").present()) {
        assertThat(rtt.cell("echo-p50", "tb").unavailable()).contains("PeerServer");
        assertThat(tput.cell("raw-tcp", "tb").unavailable()).contains("PeerServer");
      }
      assertThat(sync.cell("initial", "tb").unavailable()).contains("--emulate");
      assertThat(tput.cell("bulk-random", "tb").unavailable()).contains("--emulate"); // writes nothing on a real host
      assertThat(results.suites.get(3).cell("ttft", "tb").unavailable()).contains("--emulate");
    }
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
