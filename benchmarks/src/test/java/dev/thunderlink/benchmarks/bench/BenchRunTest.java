package dev.thunderlink.benchmarks.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole bench on one machine with a tiny time budget: a real LinkServer and PeerLinks through
 * link emulators, every built-in suite over both paths (the host-side scheduler once), and the report folder. Checks that every
 * figure was measured and lands in results.json, report.md and a readable PNG; the figures
 * themselves mean nothing at this budget (the real ones come from {@code thunderlink bench}).
 */
class BenchRunTest {

  @Test
  void emulatedRunMeasuresEveryMetricOnBothPathsAndWritesTheReport(@TempDir Path dir) throws Exception {
    BenchResults results;
    ByteArrayOutputStream lines = new ByteArrayOutputStream();
    try (EmulatedEnvironment env = EmulatedEnvironment.start();
        BenchProgress progress = new BenchProgress.Lines(new PrintStream(lines, true, StandardCharsets.UTF_8), 1000)) {
      results = new BenchRun(env, BenchSuites.builtIn(), new BenchBudget(0.03), progress, Clock.systemUTC()).run();
    }
    results.notMeasuredYet.addAll(BenchSuites.missing(BenchSuites.all()));

    for (BenchResults.SuiteResult s : results.suites) {
      for (BenchMetric m : s.suite.metrics()) {
        for (String path : results.columns(s).stream().map(BenchResults.PathInfo::name).toList()) {
          BenchResults.Cell c = s.cell(m.id(), path);
          assertThat(c.present()).as(s.suite.id() + "/" + m.id() + "/" + path + ": " + c.unavailable()).isTrue();
          assertThat(c.value()).as(m.id()).isPositive();
          assertThat(c.samples()).as(m.id()).isPositive();
        }
      }
    }
    // The emulated Wi-Fi adds 5 ms of round trip (2 x 2.5 ms, jitter +-1.5 ms each way): its raw echo is slower than 2 ms.
    assertThat(results.suites.get(0).cell("echo-p50", "wifi").value()).isGreaterThan(2000);
    assertThat(lines.toString(StandardCharsets.UTF_8)).contains("RPC round trip over Wi-Fi").contains("done");

    List<Path> written = BenchReport.write(results, dir);
    assertThat(written).extracting(p -> p.getFileName().toString())
        .containsExactlyInAnyOrder("results.json", "report.md", "round-trip.png", "throughput.png",
            "bulk-modes.png", "sync.png", "sync-s.png", "token-stream.png", "scheduler.png", "scheduler-s.png");

    JsonNode json = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
    assertThat(json.get("mode").asText()).isEqualTo("emulate");
    assertThat(json.get("suites")).hasSize(6);
    JsonNode scheduler = json.get("suites").get(5);
    assertThat(scheduler.get("id").asText()).isEqualTo("scheduler");
    assertThat(scheduler.get("scope").asText()).startsWith("host side");
    assertThat(scheduler.get("metrics").get(0).get("paths").fieldNames()).toIterable().containsExactly("host");
    JsonNode ping = json.get("suites").get(0).get("metrics").get(0);
    assertThat(ping.get("id").asText()).isEqualTo("ping-p50");
    assertThat(ping.get("paths").get("wifi").get("value").asDouble())
        .isEqualTo(results.suites.get(0).cell("ping-p50", "wifi").value());

    String md = Files.readString(dir.resolve("report.md"));
    assertThat(md)
        .contains("| metric | Thunderbolt | Wi-Fi | Thunderbolt vs Wi-Fi | the machine's limit (Thunderbolt / Wi-Fi) |")
        .contains("| Link Ping p50 |", "| gRPC stream over the link |", "raw TCP bulk",
            "| initial sync of the tree |", "the sender chose [zero-copy]")
        .contains("| random file, the sender's choice (as cp) |", "| random file, zero-copy |", "| source tree, LZ4 |",
            "| source tree, gRPC chunks |")
        .contains("](round-trip.png)", "](throughput.png)", "](bulk-modes.png)", "](sync.png)", "](sync-s.png)")
        .contains("| time to first token, median |", "SIMULATED")
        .contains("## Inference scheduler (`scheduler`) — host side, measured once",
            "| metric | thunderlink scheduler | plain FIFO (Ollama alone) |", "| model loads |", "](scheduler.png)")
        .doesNotContain("## Not measured yet");
    // the host-side suite shows once, not per path
    assertThat(md.split("\\| model loads \\|", -1)).hasSize(2);
    for (String png : List.of("round-trip.png", "throughput.png", "bulk-modes.png", "sync.png", "sync-s.png",
        "token-stream.png", "scheduler.png", "scheduler-s.png")) {
      BufferedImage image = ImageIO.read(dir.resolve(png).toFile());
      assertThat(image).as(png).isNotNull();
      assertThat(image.getWidth()).isEqualTo(900);
    }
  }

  @Test
  void ratioIsHowManyTimesBetterTheFirstPathIs() {
    BenchMetric latency = BenchMetric.measured("p50", "p50", "us", false, "raw");
    BenchMetric rate = BenchMetric.measured("mibs", "rate", "MiB/s", true, "raw");
    assertThat(BenchResults.advantage(latency, BenchResults.Cell.of(100, 1), BenchResults.Cell.of(5000, 1))).isEqualTo(50.0);
    assertThat(BenchResults.advantage(rate, BenchResults.Cell.of(600, 1), BenchResults.Cell.of(60, 1))).isEqualTo(10.0);
    assertThat(BenchResults.advantage(rate, BenchResults.Cell.of(600, 1), BenchResults.Cell.missing("down"))).isNull();
  }
}
