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
        .build();
    Collection<RunResult> results = new Runner(options).run();

    Set<String> ran = new TreeSet<>();
    for (RunResult r : results) {
      String name = r.getParams().getBenchmark();
      ran.add(name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1)
          + "/" + r.getParams().getParam("profile"));
      assertThat(r.getPrimaryResult().getSampleCount()).as(name).isPositive();
      assertThat(r.getPrimaryResult().getScore()).as(name).isPositive();
    }
    assertThat(ran).containsExactlyInAnyOrder(
        "RoundTripBenchmark.tcpEcho/thunderbolt", "RoundTripBenchmark.tcpEcho/wifi",
        "RoundTripBenchmark.linkPing/thunderbolt", "RoundTripBenchmark.linkPing/wifi",
        "BulkThroughputBenchmark.tcpBulk/thunderbolt", "BulkThroughputBenchmark.tcpBulk/wifi",
        "BulkModeBenchmark.push/thunderbolt", "BulkModeBenchmark.push/wifi");
  }
}
