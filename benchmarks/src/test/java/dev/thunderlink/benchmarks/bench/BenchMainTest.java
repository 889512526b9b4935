package dev.thunderlink.benchmarks.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: help, listing, and a one-line error with exit code 2 for each bad input. */
class BenchMainTest {

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return BenchMain.run(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), Clock.systemUTC(), args);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void helpNamesBothModesAndTheReport() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("--emulate", "--path", "--home", "--full", "--out", "report.md");
  }

  @Test
  void listShowsEverySuiteTheIssueAsksFor() {
    assertThat(run("--list")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("round-trip", "throughput", "bulk-modes", "token-stream", "sync", "scheduler")
        .doesNotContain("not built yet");
  }

  @Test
  void noModeIsAUsageError() {
    assertThat(run()).isEqualTo(2);
    assertThat(err()).contains("no paths").contains("--emulate").hasLineCount(1);
  }

  @Test
  void pathWithEmulateIsRefused() {
    assertThat(run("--emulate", "--path", "tb=127.0.0.1:7420")).isEqualTo(2);
    assertThat(err()).contains("--path: tb=127.0.0.1:7420").contains("--emulate").hasLineCount(1);
  }

  @Test
  void homeWithEmulateIsRefused(@TempDir Path dir) {
    assertThat(run("--emulate", "--home", dir.toString())).isEqualTo(2);
    assertThat(err()).contains("--home: ").contains("--emulate").hasLineCount(1);
  }

  @Test
  void hostDirWithEmulateIsRefused() {
    assertThat(run("--emulate", "--host-dir", "scratch")).isEqualTo(2);
    assertThat(err()).contains("--host-dir: scratch").contains("--emulate").hasLineCount(1);
  }

  @Test
  void blankHostDirIsRefused() {
    assertThat(run("--path", "tb=127.0.0.1:7420", "--host-dir", " ")).isEqualTo(2);
    assertThat(err()).contains("--host-dir: ''").contains("bulk roots").hasLineCount(1);
  }

  @Test
  void malformedPathIsRefused() {
    assertThat(run("--path", "nonsense")).isEqualTo(2);
    assertThat(err()).contains("--path: nonsense").contains("NAME=ADDR").hasLineCount(1);
  }

  @Test
  void badPortIsRefused() {
    assertThat(run("--path", "tb=127.0.0.1:99999")).isEqualTo(2);
    assertThat(err()).contains("tb=127.0.0.1:99999").contains("port").hasLineCount(1);
  }

  @Test
  void duplicatePathNameIsRefused() {
    assertThat(run("--path", "tb=127.0.0.1:7420", "--path", "tb=127.0.0.2:7420")).isEqualTo(2);
    assertThat(err()).contains("given twice").hasLineCount(1);
  }

  @Test
  void unknownBenchmarkIsRefused() {
    assertThat(run("--emulate", "--only", "warp-drive")).isEqualTo(2);
    assertThat(err()).contains("--only: warp-drive").contains("round-trip").hasLineCount(1);
  }

  @Test
  void homeWithoutPairingSaysPairFirst(@TempDir Path dir) {
    assertThat(run("--home", dir.toString(), "--path", "tb=127.0.0.1:7420")).isEqualTo(2);
    // a progress line ("setting up ..."), then the one-line error, no stack trace
    assertThat(err()).contains("thunderlink bench: --home: " + dir).contains("pair first")
        .doesNotContain("\tat ").hasLineCount(2);
  }
}
