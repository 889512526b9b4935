package dev.thunderlink.daemon.cli;

import dev.thunderlink.daemon.logs.LogFiles;
import dev.thunderlink.daemon.logs.LogFollower;
import dev.thunderlink.daemon.logs.Since;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code thunderlink logs [-f] [--since DURATION|TIME] [-n N]}: the service's log files under HOME/logs. */
@Command(
    name = "logs",
    mixinStandardHelpOptions = true,
    description = {
      "Print the daemon's log (written to HOME/logs when it runs as a service).",
      "Examples:",
      "  thunderlink logs --since 10m",
      "  thunderlink logs -f",
      "  thunderlink logs --since 2026-11-26T09:00"
    })
public final class LogsCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;
  @Mixin HomeOption home;

  @Option(names = {"-f", "--follow"}, description = "Keep printing new lines as they are written (Ctrl-C to stop).")
  boolean follow;

  @Option(names = "--since", paramLabel = "DURATION|TIME", description = "Only entries from then on: 10m, 2h, 1d, 2026-11-26T09:00, 09:00.")
  String since;

  @Option(names = {"-n", "--lines"}, paramLabel = "N", description = "Without --since: the last N entries (default 100; 0: all).")
  int lines = 100;

  final Clock clock;

  public LogsCommand() {
    this(Clock.systemDefaultZone());
  }

  /** With a given clock (for tests). */
  public LogsCommand(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Integer call() throws Exception {
    if (lines < 0) {
      throw new IllegalArgumentException("--lines: " + lines + " (expected: >= 0)");
    }
    Instant from = since == null ? null : Since.parse(since, clock);
    Path dir = home.resolve().logs();
    PrintWriter out = spec.commandLine().getOut();
    if (LogFiles.inOrder(dir).isEmpty() && !follow) {
      spec.commandLine().getErr().println(
          "thunderlink: no logs in " + dir + " (a daemon writes them there when it runs as a service;"
              + " in the foreground it logs to the terminal)");
      return 1;
    }
    long offset = LogFiles.print(dir, from, from == null ? lines : 0, out::println);
    out.flush();
    if (follow) {
      Path current = dir.resolve(LogFiles.CURRENT);
      new LogFollower(current, Duration.ofMillis(250))
          .follow(
              offset,
              line -> {
                out.println(line);
                out.flush();
              });
    }
    return 0;
  }
}
