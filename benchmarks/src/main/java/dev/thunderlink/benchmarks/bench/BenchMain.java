package dev.thunderlink.benchmarks.bench;

import dev.thunderlink.transport.LinkPath;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code thunderlink bench}: runs the user-facing benchmarks over each path to a host and writes a
 * report folder ({@code results.json}, {@code report.md}, one PNG chart per benchmark). The
 * daemon's {@code bench} command runs this class in a child JVM with the same arguments.
 *
 * <p>Threads: parses and runs on the main thread; progress goes to stderr, the report's location
 * to stdout. Exit codes: 0 done, 1 failed, 2 bad usage.
 */
@Command(
    name = "thunderlink bench",
    mixinStandardHelpOptions = true,
    version = "thunderlink bench 1",
    sortOptions = false,
    description = {
      "Measure the link over each path, Thunderbolt against Wi-Fi, beside the machine's limit.",
      "Writes a report folder: results.json, report.md and PNG charts.",
      "",
      "One machine:    thunderlink bench --emulate",
      "A paired host:  thunderlink bench --path tb=169.254.3.7:7420 --path wifi=192.168.1.20",
      "",
      "Raw TCP limits on a real host need, there:",
      "  java -cp benchmarks.jar dev.thunderlink.benchmarks.PeerServer",
    })
public final class BenchMain implements Callable<Integer> {

  @Option(names = "--emulate", description = "Host and workstation on this machine, each path through a link emulator (thunderbolt and wifi profiles).")
  boolean emulate;

  @Option(names = "--home", paramLabel = "DIR", description = "Workstation home whose pairing reaches the real host (default: $THUNDERLINK_HOME or ~/.thunderlink).")
  Path home;

  @Option(names = "--path", paramLabel = "NAME=ADDR[:PORT]", description = "A path to the real host, e.g. tb=169.254.3.7:7420 or wifi=192.168.1.20 (repeat; order = report order).")
  List<String> paths = new ArrayList<>();

  @Option(names = "--host-dir", paramLabel = "DIR", description = "With --path: a directory on the host, inside its bulk roots, where the bulk suites may write (thunderlink-bench-<path>/ below it, left there); as an absolute path or ~/PATH the mirror suite too (its tree is deleted at the end, its empty folders stay). Without it they write nothing and say so.")
  String hostDir;

  @Option(names = "--full", description = "Measure five times longer per phase (the short run takes 1-2 minutes).")
  boolean full;

  @Option(names = "--only", paramLabel = "ID", split = ",", description = "Run only these benchmarks (see --list).")
  List<String> only = new ArrayList<>();

  @Option(names = "--list", description = "List the benchmarks and exit.")
  boolean list;

  @Option(names = "--out", paramLabel = "DIR", description = "Report folder (default: bench-results/<UTC timestamp>).")
  Path out;

  private final PrintStream stdout;
  private final PrintStream stderr;
  private final Clock clock;

  BenchMain(PrintStream stdout, PrintStream stderr, Clock clock) {
    this.stdout = stdout;
    this.stderr = stderr;
    this.clock = clock;
  }

  public static void main(String[] args) {
    System.exit(run(System.out, System.err, Clock.systemUTC(), args));
  }

  /** Parses and runs; returns the exit code. */
  static int run(PrintStream stdout, PrintStream stderr, Clock clock, String... args) {
    CommandLine cl = new CommandLine(new BenchMain(stdout, stderr, clock));
    cl.setOut(new PrintWriter(stdout, true));
    cl.setErr(new PrintWriter(stderr, true));
    cl.setExecutionExceptionHandler((ex, commandLine, parse) -> {
      commandLine.getErr().println("thunderlink bench: " + BenchRun.oneLine(ex).replaceFirst("^IllegalArgumentException: ", ""));
      return ex instanceof IllegalArgumentException ? 2 : 1;
    });
    return cl.execute(args);
  }

  @Override
  public Integer call() throws Exception {
    Map<String, BenchSuite> registered = BenchSuites.all();
    if (list) {
      for (BenchSuite s : registered.values()) {
        stdout.println(s.id() + "\t" + s.title() + ": " + s.description());
      }
      for (String id : BenchSuites.missing(registered)) {
        stdout.println(id + "\t(not built yet) " + BenchSuites.PLANNED.get(id));
      }
      return 0;
    }
    List<BenchSuite> suites = select(registered);
    List<LinkPath> linkPaths = parsePaths();
    BenchBudget budget = full ? BenchBudget.FULL : BenchBudget.SHORT;
    Path dir = out != null ? out
        : Path.of("bench-results", DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(clock.instant()));

    stderr.println("thunderlink bench: setting up " + (emulate ? "the emulated link" : "the link to the host") + "...");
    try (BenchEnvironment env = emulate
        ? EmulatedEnvironment.start()
        : HomeEnvironment.start(resolveHome(), linkPaths, hostDir)) {
      // Ctrl-C: stop the servers and remove the temporary trees even when the run is cut short
      Thread cleanup = new Thread(() -> {
        try {
          env.close();
        } catch (Exception e) {
          // exiting anyway
        }
      }, "bench-cleanup");
      Runtime.getRuntime().addShutdownHook(cleanup);
      long planned = BenchRun.warmUpMillis(budget);
      for (BenchSuite s : suites) {
        planned += s.plannedMillis(budget) * (s.hostSide() != null ? 1 : env.targets().size());
      }
      BenchResults results;
      try (BenchProgress progress = BenchProgress.forTerminal(stderr, planned)) {
        results = new BenchRun(env, suites, budget, progress, clock).run();
      }
      results.notMeasuredYet.addAll(BenchSuites.missing(registered));
      BenchReport.write(results, dir);
      stdout.println("report: " + dir.resolve("report.md"));
      for (BenchResults.SuiteResult s : results.suites) {
        stdout.println(summary(results, s));
      }
      Runtime.getRuntime().removeShutdownHook(cleanup);
      return 0;
    }
  }

  private List<BenchSuite> select(Map<String, BenchSuite> registered) {
    if (only.isEmpty()) {
      return new ArrayList<>(registered.values());
    }
    List<BenchSuite> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (String id : only) {
      BenchSuite s = registered.get(id.trim());
      if (s == null) {
        throw new IllegalArgumentException("--only: " + id + " (expected one of " + String.join(", ", registered.keySet()) + ")");
      }
      if (seen.add(s.id())) {
        out.add(s);
      }
    }
    return out;
  }

  private List<LinkPath> parsePaths() {
    if (emulate) {
      if (!paths.isEmpty()) {
        throw new IllegalArgumentException("--path: " + paths.get(0) + " (expected: no --path with --emulate, which makes its own)");
      }
      if (home != null) {
        throw new IllegalArgumentException("--home: " + home + " (expected: no --home with --emulate, which pairs its own)");
      }
      if (hostDir != null) {
        throw new IllegalArgumentException("--host-dir: " + hostDir + " (expected: no --host-dir with --emulate, whose host writes into a temporary directory)");
      }
      return List.of();
    }
    if (hostDir != null && hostDir.isBlank()) {
      throw new IllegalArgumentException("--host-dir: '' (expected: a directory inside the host's bulk roots)");
    }
    if (paths.isEmpty()) {
      throw new IllegalArgumentException("no paths (expected: --emulate on one machine, or --path NAME=ADDR[:PORT]"
          + " for each path to a paired host, e.g. --path tb=169.254.3.7:7420 --path wifi=192.168.1.20:7420)");
    }
    List<LinkPath> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (String spec : paths) {
      LinkPath p = LinkPath.parse(spec);
      if (!names.add(p.name())) {
        throw new IllegalArgumentException("--path: " + spec + " (expected: a unique name; " + p.name() + " is given twice)");
      }
      out.add(p);
    }
    return out;
  }

  private Path resolveHome() {
    if (home != null) {
      return home.toAbsolutePath().normalize();
    }
    String env = System.getenv("THUNDERLINK_HOME");
    if (env != null && !env.isBlank()) {
      return Path.of(env).toAbsolutePath().normalize();
    }
    return Path.of(System.getProperty("user.home"), ".thunderlink");
  }

  private static String cell(BenchResults.Cell c, BenchMetric m) {
    return c.present() ? BenchReport.format(c.value()) + " " + m.unit() : "n/a";
  }

  /** One line per suite for the terminal. */
  static String summary(BenchResults r, BenchResults.SuiteResult s) {
    StringBuilder b = new StringBuilder(s.suite.title()).append(':');
    BenchSuite.HostSide host = s.suite.hostSide();
    for (BenchMetric m : s.suite.metrics()) {
      if (m.isLimit()) {
        continue;
      }
      b.append("  ").append(m.name());
      if (host != null) {
        b.append(' ').append(cell(s.cell(m.id(), BenchResults.HOST), m));
        if (m.limitId() != null) {
          b.append(" (").append(host.baseline()).append(' ').append(cell(s.cell(m.limitId(), BenchResults.HOST), m)).append(')');
        }
        continue;
      }
      for (BenchResults.PathInfo p : r.paths) {
        b.append(' ').append(p.label()).append(' ').append(cell(s.cell(m.id(), p.name()), m));
      }
    }
    java.util.Set<String> why = new java.util.LinkedHashSet<>();
    for (BenchMetric m : s.suite.metrics()) {
      for (BenchResults.PathInfo p : r.columns(s)) {
        BenchResults.Cell c = s.cell(m.id(), p.name());
        if (!c.present()) {
          why.add(c.unavailable());
        }
      }
    }
    for (String w : why) {
      b.append("\n  not measured: ").append(w);
    }
    return b.toString();
  }
}
