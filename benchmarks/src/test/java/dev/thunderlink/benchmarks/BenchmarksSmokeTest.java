package dev.thunderlink.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs every JMH benchmark once, in-process, with one short iteration and no warm-up, so none
 * rots unnoticed. The figures are meaningless and not looked at; only that every benchmark ran for
 * every profile and measured something. The same from a shell:
 * {@code java -jar benchmarks/target/benchmarks.jar -f 0 -wi 0 -i 1 -r 100ms}.
 */
class BenchmarksSmokeTest {

  @Test
  void everyBenchmarkRunsOnceForEveryProfile() throws Exception {
    Options options = new OptionsBuilder()
        .include("dev\\.thunderlink\\.benchmarks\\..*")
        .forks(0)
        .warmupIterations(0)
        .measurementIterations(1)
        .measurementTime(TimeValue.milliseconds(100))
        .shouldFailOnError(true)
        .param("files", "100") // SyncBenchmark: a small tree, each trial syncs it first
        .build();
    Collection<RunResult> results = new Runner(options).run();

    Set<String> ran = new TreeSet<>();
    for (RunResult r : results) {
      String name = r.getParams().getBenchmark();
      String variant = r.getParams().getParam("mode") != null ? r.getParams().getParam("mode") : r.getParams().getParam("policy");
      String profile = r.getParams().getParam("profile");
      ran.add(name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1)
          + (variant == null ? "" : "[" + variant + "]") + "/" + (profile == null ? "host side" : profile));
      assertThat(r.getPrimaryResult().getSampleCount()).as(name).isPositive();
      assertThat(r.getPrimaryResult().getScore()).as(name).isPositive();
    }
    assertThat(ran).containsExactlyInAnyOrder(
        "RoundTripBenchmark.tcpEcho/thunderbolt", "RoundTripBenchmark.tcpEcho/wifi",
        "RoundTripBenchmark.linkPing/thunderbolt", "RoundTripBenchmark.linkPing/wifi",
        "BulkThroughputBenchmark.tcpBulk/thunderbolt", "BulkThroughputBenchmark.tcpBulk/wifi",
        "BulkModeBenchmark.push[zero-copy]/thunderbolt", "BulkModeBenchmark.push[zero-copy]/wifi",
        "BulkModeBenchmark.push[heap]/thunderbolt", "BulkModeBenchmark.push[heap]/wifi",
        "BulkModeBenchmark.push[lz4]/thunderbolt", "BulkModeBenchmark.push[lz4]/wifi",
        "BulkModeBenchmark.push[tls]/thunderbolt", "BulkModeBenchmark.push[tls]/wifi",
        "TokenStreamBenchmark.pair/thunderbolt", "TokenStreamBenchmark.pair/wifi",
        "TokenStreamBenchmark.direct/thunderbolt", "TokenStreamBenchmark.direct/wifi",
        "SchedulerBenchmark.replay[scheduler]/host side", "SchedulerBenchmark.replay[fifo]/host side",
        "SyncBenchmark.edit/thunderbolt", "SyncBenchmark.edit/wifi",
        "SyncBenchmark.tenFiles/thunderbolt", "SyncBenchmark.tenFiles/wifi",
        "SyncBenchmark.initialSync/thunderbolt", "SyncBenchmark.initialSync/wifi");
    // and no JMH benchmark class of this module escaped the include pattern: every class listed in
    // the JMH-generated BenchmarkList ran
    Set<String> listed = new TreeSet<>();
    try (var in = getClass().getResourceAsStream("/META-INF/BenchmarkList")) {
      for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(dev\\.thunderlink\\.[\\w.]+)\\.(\\w+Benchmark)\\b").matcher(line);
        if (m.find()) {
          listed.add(m.group(2));
        }
      }
    }
    Set<String> ranClasses = new TreeSet<>();
    for (String r : ran) {
      ranClasses.add(r.substring(0, r.indexOf('.')));
    }
    assertThat(listed).isNotEmpty();
    assertThat(ranClasses).containsAll(listed);
  }
}
