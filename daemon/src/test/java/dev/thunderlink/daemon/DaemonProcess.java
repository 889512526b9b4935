package dev.thunderlink.daemon;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code thunderlink} command run in its own JVM, as a user would run it, with its output
 * captured to files so a failing test can show it.
 */
final class DaemonProcess implements AutoCloseable {
  final Process process;
  final Path stdout;
  final Path stderr;

  private DaemonProcess(Process process, Path stdout, Path stderr) {
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  static DaemonProcess start(Path logDir, String name, List<String> jvmArgs, String... args) throws IOException {
    return start(logDir, name, jvmArgs, java.util.Map.of(), args);
  }

  static DaemonProcess start(
      Path logDir, String name, List<String> jvmArgs, java.util.Map<String, String> env, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xss512k");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-XX:+UseSerialGC");
    // The daemon's own logging setup, not a test-jar's logback-test.xml on the classpath.
    cmd.add("-Dlogback.configurationFile=logback.xml");
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(List.of(args));
    Files.createDirectories(logDir);
    Path out = logDir.resolve(name + ".out");
    Path err = logDir.resolve(name + ".err");
    ProcessBuilder pb = new ProcessBuilder(cmd);
    // No metrics endpoint unless a test asks for one: several daemons share this machine.
    pb.environment().put("THUNDERLINK_METRICS_PORT", "0");
    // No inference warm-up unless a test asks for one: thousands of requests' CPU per daemon, and
    // these JVMs run C1 only, so it would not even make them faster (DaemonWarmupTest runs it).
    pb.environment().put("THUNDERLINK_INFERENCE_WARMUP", "false");
    pb.environment().putAll(env);
    Process p =
        pb
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    return new DaemonProcess(p, out, err);
  }

  /** Runs a CLI command to completion. */
  static Result run(Path logDir, String name, List<String> jvmArgs, String... args) throws Exception {
    try (DaemonProcess p = start(logDir, name, jvmArgs, args)) {
      if (!p.process.waitFor(60, TimeUnit.SECONDS)) {
        throw new AssertionError("`thunderlink " + String.join(" ", args) + "` did not finish in 60 s");
      }
      return new Result(p.process.exitValue(), p.out(), p.err());
    }
  }

  String out() throws IOException {
    return Files.readString(stdout, StandardCharsets.UTF_8);
  }

  String err() throws IOException {
    return Files.readString(stderr, StandardCharsets.UTF_8);
  }

  /** What a finished command printed. */
  record Result(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  /** SIGTERM, then wait; SIGKILL if it does not stop. Returns milliseconds to exit. */
  long terminate() throws InterruptedException {
    long t0 = System.nanoTime();
    process.destroy();
    if (!process.waitFor(15, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  /** SIGKILL (kill -9), as a crash or a power cut would stop it, then wait for it to be gone. */
  void kill() throws InterruptedException {
    if (!process.destroyForcibly().waitFor(15, TimeUnit.SECONDS)) {
      throw new AssertionError("still running 15 s after SIGKILL: " + process.pid());
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      terminate();
    }
  }
}
