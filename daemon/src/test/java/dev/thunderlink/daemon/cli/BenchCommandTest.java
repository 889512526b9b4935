package dev.thunderlink.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class BenchCommandTest {

  @AfterEach
  void clearOverride() {
    System.clearProperty("thunderlink.benchmarks.jar");
  }

  @Test
  void everyArgumentGoesToTheBenchmarkRunnerInOrder() {
    BenchCommand bench = new BenchCommand();
    new CommandLine(bench).parseArgs(
        "--emulate", "--path", "tb=169.254.3.7:7420", "--only", "round-trip", "--out", "x y", "--help");
    assertThat(bench.args).containsExactly(
        "--emulate", "--path", "tb=169.254.3.7:7420", "--only", "round-trip", "--out", "x y", "--help");
  }

  @Test
  void missingJarSaysHowToBuildIt(@TempDir Path dir) {
    Path missing = dir.resolve("benchmarks.jar");
    System.setProperty("thunderlink.benchmarks.jar", missing.toString());
    StringWriter err = new StringWriter();
    CommandLine cl = ThunderlinkCommand.commandLine();
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute("bench", "--emulate");
    assertThat(code).isEqualTo(1);
    assertThat(err.toString())
        .contains("benchmarks.jar not found")
        .contains(missing.toString())
        .contains("mvn -B -ntp -pl benchmarks -am package -DskipTests");
  }

  @Test
  void looksNextToTheDaemonJarThenInTheRepository() {
    List<Path> candidates = BenchCommand.candidates();
    assertThat(candidates).isNotEmpty();
    assertThat(candidates).allSatisfy(p -> assertThat(p.getFileName().toString()).isEqualTo("benchmarks.jar"));
    assertThat(candidates.get(candidates.size() - 1))
        .isEqualTo(Path.of("benchmarks", "target", "benchmarks.jar").toAbsolutePath());
  }
}
