package dev.thunderlink.daemon.service;

import java.io.IOException;
import java.util.List;

/**
 * Runs a system command ({@code launchctl}, {@code systemctl}) and returns what it printed.
 * An interface so tests record the commands instead of touching the real service manager.
 */
public interface CommandRunner {
  /** What a finished command returned. */
  record Result(int exit, String output) {
    public boolean ok() {
      return exit == 0;
    }
  }

  /**
   * Runs the command to completion.
   *
   * @throws IOException when the program cannot be started (e.g. not installed)
   */
  Result run(List<String> command) throws IOException, InterruptedException;

  /** The real thing: a child process, stdout and stderr merged, bounded to 30 s. */
  static CommandRunner system() {
    return command -> {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", command) + ": did not finish in 30 s");
      }
      return new Result(p.exitValue(), new String(out, java.nio.charset.StandardCharsets.UTF_8));
    };
  }
}
