package dev.thunderlink.daemon.cli;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code thunderlink bench}: runs {@code dev.thunderlink.benchmarks.bench.BenchMain} from {@code
 * benchmarks.jar} in a child JVM with the same arguments and this terminal, and returns its exit
 * code. A child JVM keeps JMH, XChart and the benchmark servers out of the daemon's jar and heap.
 *
 * <p>The jar is looked for in order: {@code -Dthunderlink.benchmarks.jar}, next to {@code
 * thunderlink.jar}, then {@code <repo>/benchmarks/target/benchmarks.jar} when thunderlink.jar is
 * {@code <repo>/daemon/target/thunderlink.jar}. Runs on the CLI's main thread, which waits for the
 * child; a shutdown hook stops the child if this JVM is terminated.
 */
@Command(
    name = "bench",
    description = {
      "Benchmark the link: Thunderbolt against Wi-Fi, beside the machine's limit;",
      "writes a report folder.",
      "All arguments go to the benchmark runner: see `thunderlink bench --help`.",
      "  thunderlink bench --emulate     (one machine, emulated paths)",
      "  thunderlink bench --path tb=ADDR:PORT --path wifi=ADDR:PORT   (a paired host)"
    })
public final class BenchCommand implements Callable<Integer> {
  static final String MAIN = "dev.thunderlink.benchmarks.bench.BenchMain";
  static final String BUILD = "mvn -B -ntp -pl benchmarks -am package -DskipTests";

  @Unmatched List<String> args = new ArrayList<>();

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException, InterruptedException {
    List<Path> candidates = candidates();
    Optional<Path> jar = candidates.stream().filter(Files::isRegularFile).findFirst();
    if (jar.isEmpty()) {
      spec.commandLine().getErr().println("thunderlink bench: benchmarks.jar not found (looked at "
          + String.join(", ", candidates.stream().map(Path::toString).toList())
          + "); build it in the repository with: " + BUILD + "  (or run ./thunderlink bench, which builds it)");
      return 1;
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(jar.get().toString());
    cmd.add(MAIN);
    cmd.addAll(args);
    Process child = new ProcessBuilder(cmd).inheritIO().start();
    Thread stopChild = new Thread(child::destroy, "bench-child-stop");
    Runtime.getRuntime().addShutdownHook(stopChild);
    try {
      return child.waitFor();
    } finally {
      if (!child.isAlive()) {
        Runtime.getRuntime().removeShutdownHook(stopChild);
      }
    }
  }

  /** Where benchmarks.jar may be, in the order it is looked for. */
  static List<Path> candidates() {
    List<Path> out = new ArrayList<>();
    String override = System.getProperty("thunderlink.benchmarks.jar");
    if (override != null && !override.isBlank()) {
      out.add(Path.of(override).toAbsolutePath());
      return out;
    }
    Path self = ownJar();
    if (self != null && self.getParent() != null) {
      Path dir = self.getParent();
      out.add(dir.resolve("benchmarks.jar"));
      Path repo = dir.getParent() == null ? null : dir.getParent().getParent(); // <repo>/daemon/target
      if (repo != null) {
        out.add(repo.resolve("benchmarks").resolve("target").resolve("benchmarks.jar"));
      }
    }
    out.add(Path.of("benchmarks", "target", "benchmarks.jar").toAbsolutePath());
    return out.stream().distinct().toList();
  }

  private static Path ownJar() {
    try {
      var source = BenchCommand.class.getProtectionDomain().getCodeSource();
      return source == null ? null : Path.of(source.getLocation().toURI()).toAbsolutePath();
    } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
      return null;
    }
  }
}
