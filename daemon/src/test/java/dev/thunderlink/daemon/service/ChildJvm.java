package dev.thunderlink.daemon.service;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A main class of the test sources run in its own JVM; its stdout lines are queued for the test to await. */
final class ChildJvm implements AutoCloseable {
  final Process process;
  final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  final List<String> all = java.util.Collections.synchronizedList(new ArrayList<>());

  ChildJvm(Class<?> main, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l; (l = r.readLine()) != null; ) {
          all.add(l);
          lines.add(l);
        }
      } catch (IOException e) {
        lines.add("READ ERROR " + e);
      }
    }, "child-jvm-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /** Waits for a line starting with {@code prefix}, failing with everything the child printed. */
  String await(String prefix, long seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      String l = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (l != null && l.startsWith(prefix)) {
        return l;
      }
    }
    throw new AssertionError("child did not print '" + prefix + "' in " + seconds + " s; it printed:\n" + String.join("\n", all));
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
