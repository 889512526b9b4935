package dev.thunderlink.daemon.cp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.thunderlink.daemon.DaemonHome;
import dev.thunderlink.proto.cpcontrol.CopyRequest;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.TransferResult;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code thunderlink cp}: copies files and trees to or from the host over the bulk plane.
 * Thin: parses, asks its {@link CpLink} for a connected link, runs a {@link Copier}, prints.
 * The main command registers it with {@code new CpCommand(daemonLink)} (or the no-argument
 * constructor, which builds a link of its own from the home directory).
 */
@Command(
    name = "cp",
    mixinStandardHelpOptions = true,
    description = {
      "Copy files and directories to or from the host over the link.",
      "  thunderlink cp LOCAL... host:PATH     (to the host)",
      "  thunderlink cp host:PATH LOCAL        (from the host)",
      "Identical files (same size, mtime, executable bit) are skipped; every file is",
      "verified end to end and written atomically; an interrupted copy resumes where it",
      "stopped. Verification: XXH3-128 on plaintext Thunderbolt (catches corruption,",
      "like rsync's xxh128, not a deliberate rewrite on the cable), SHA-256 under TLS;",
      "bulk.digest = \"sha256\" in the host's config makes it SHA-256 everywhere.",
      "Trees keep their empty directories; a symbolic link is copied as a link when its",
      "relative target stays inside the copied tree, and reported (not followed)",
      "otherwise.",
      "When the workstation daemon runs, it makes the copy over its link (up and warm);",
      "--standalone (or --path) makes it over a link of this command's own."
    })
public final class CpCommand implements Callable<Integer> {
  /**
   * Made on first use: only a copy made by this command prints with it (the daemon's come
   * printed), and making it cost every {@code cp} ~0.1 s (~400 classes).
   */
  private static final class Json {
    /** Written straight to its target, which it leaves open (no whole summary as one string). */
    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
        .disable(com.fasterxml.jackson.core.JsonGenerator.Feature.AUTO_CLOSE_TARGET);
  }

  @Parameters(arity = "2..*", paramLabel = "OPERAND", description = "LOCAL... host:PATH, or host:PATH LOCAL.")
  List<String> operands;

  @Option(names = "--home", paramLabel = "DIR", description = "State directory (default: $THUNDERLINK_HOME or ~/.thunderlink).")
  Path home;

  @Option(names = "--json", description = "Print a JSON summary (bytes, files, seconds, mode per file, throughput).")
  boolean json;

  @Option(names = "--no-progress", description = "No progress bar even on a terminal.")
  boolean noProgress;

  @Option(names = "--failover-timeout", paramLabel = "SECONDS", description = "How long to wait for a path to the host to come back (default ${DEFAULT-VALUE}).")
  int failoverSeconds = 30;

  @Option(names = "--path", paramLabel = "NAME=ADDR[:PORT]",
      description = "A path to the host, as for `connect --path` (repeatable), e.g. tb=169.254.3.7:7420; "
          + "default: the host addresses remembered at pairing.")
  List<String> pathSpecs = new java.util.ArrayList<>();

  @Option(names = "--standalone",
      description = "Copy over a link of this command's own even when the workstation daemon runs "
          + "(by default the running daemon copies over its link, already up and warm).")
  boolean standalone;

  @Spec CommandSpec spec;

  private final CpLink link;

  /** With a link of its own (see {@link StandaloneCpLink}). */
  public CpCommand() {
    this(new StandaloneCpLink(Duration.ofSeconds(10), BulkConfig.defaults(List.of())));
  }

  /** With the link the caller provides (the workstation daemon's). */
  public CpCommand(CpLink link) {
    this.link = link;
  }

  @Override
  public Integer call() throws Exception {
    if (failoverSeconds < 0) {
      throw new IllegalArgumentException("--failover-timeout: " + failoverSeconds + " (expected: >= 0)");
    }
    CpSpec cp = CpSpec.parse(operands);
    PrintWriter out = spec.commandLine().getOut();
    boolean bar = !json && !noProgress && System.console() != null;
    if (!standalone && pathSpecs.isEmpty() && link instanceof StandaloneCpLink) {
      java.util.Optional<Integer> rc = DaemonCp.copy(DaemonHome.resolve(home).dir(), request(cp), out, new ProgressListener(bar));
      if (rc.isPresent()) {
        return rc.get();
      }
    }
    Copier.LocalWalk ahead = Copier.walkAhead(cp); // while the link comes up
    List<dev.thunderlink.transport.LinkPath> paths = new java.util.ArrayList<>();
    for (String p : pathSpecs) {
      paths.add(dev.thunderlink.transport.LinkPath.parse(p));
    }
    CpLink link = paths.isEmpty() || !(this.link instanceof StandaloneCpLink s) ? this.link : s.withPaths(paths);
    CopyReport report;
    try (CpLink.Connected c = link.open(home)) {
      Copier copier = new Copier(c, Duration.ofSeconds(failoverSeconds));
      Thread main = Thread.currentThread();
      Thread hook = new Thread(copier::cancel, "thunderlink-cp-cancel");
      Runtime.getRuntime().addShutdownHook(hook);
      ProgressListener progress = new ProgressListener(bar);
      try {
        report = copier.copy(cp, progress, ahead);
      } catch (Copier.CopyException e) {
        throw new IllegalStateException(e.getMessage(), e);
      } finally {
        progress.close();
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // shutting down: the hook is running
        }
        if (main.isInterrupted()) {
          copier.cancel();
        }
      }
    }
    print(out, report);
    return report.ok() ? 0 : 1;
  }

  void print(PrintWriter out, CopyReport r) throws Exception {
    print(out, r, json);
  }

  /** What the command prints for {@code r}: the JSON summary or the human one. */
  static void print(PrintWriter out, CopyReport r, boolean json) throws java.io.IOException {
    if (json) {
      Json.MAPPER.writeValue(out, r);
      out.println();
      out.flush();
      return;
    }
    for (CopyReport.Entry e : r.entries()) {
      if (e.error() != null) {
        out.println("failed: " + e.source() + ": " + e.error());
      }
    }
    out.printf(
        Locale.ROOT,
        "%s %d file(s) and link(s), %d director(ies), %s in %.2f s (%s/s), %d skipped as identical, %d failed, %s%n",
        r.direction().equals("push") ? "sent" : "received",
        r.copied(), r.directories(), human(r.bytes()), r.seconds(), human(rate(r)), r.skipped(), r.failed(),
        (r.encrypted() ? "encrypted (TLS)" : "plaintext on Thunderbolt") + ", " + r.digest() + " verified");
    out.flush();
  }

  /**
   * The JSON summary of {@code r} as {@code cp --json} prints it (line end included), written
   * as UTF-8 straight to {@code out}, which stays open.
   */
  static void writeJson(java.io.OutputStream out, CopyReport r) throws java.io.IOException {
    Json.MAPPER.writeValue(out, r);
    out.write(System.lineSeparator().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
  }

  /**
   * {@code cp} as the daemon gets it: local paths made absolute against this command's working
   * directory by joining the strings, so a destination's trailing slash ("into this directory")
   * survives.
   */
  CopyRequest request(CpSpec cp) {
    String cwd = Path.of("").toAbsolutePath().toString();
    java.util.function.UnaryOperator<String> abs = p -> Path.of(p).isAbsolute() ? p : cwd + "/" + p;
    CopyRequest.Builder b = CopyRequest.newBuilder().setPush(cp.push()).setFailoverSeconds(failoverSeconds).setJson(json)
        .setOutputPieces(true);
    if (cp.push()) {
      cp.sources().forEach(src -> b.addSources(abs.apply(src)));
      b.setDestination(cp.destination());
    } else {
      b.addAllSources(cp.sources()).setDestination(abs.apply(cp.destination()));
    }
    return b.build();
  }

  /** Bytes a second over the whole copy (0 for one too short to time). */
  static long rate(CopyReport r) {
    return r.seconds() > 0 ? (long) (r.bytes() / r.seconds()) : 0;
  }

  static String human(long bytes) {
    return dev.thunderlink.daemon.internal.Sizes.human(bytes);
  }

  /** Feeds a terminal progress bar (thread-safe: ProgressBar synchronizes its steps). */
  static final class ProgressListener implements Copier.Listener, AutoCloseable {
    private final boolean enabled;
    private volatile ProgressBar bar;

    ProgressListener(boolean enabled) {
      this.enabled = enabled;
    }

    @Override
    public void planned(long files, long bytes) {
      if (enabled) {
        bar =
            new ProgressBarBuilder()
                .setTaskName("cp " + files + " file(s)")
                .setInitialMax(bytes)
                .setUnit("MiB", 1024 * 1024)
                .setStyle(ProgressBarStyle.ASCII)
                .showSpeed()
                .build();
      }
    }

    private String lastWhy;

    /** One line on stderr per distinct reason, so a person knows why the copy pauses. */
    @Override
    public synchronized void waitingForHost(String why, Duration upTo) {
      if (!java.util.Objects.equals(why, lastWhy)) {
        lastWhy = why;
        System.err.println("cp: " + why + "; waiting up to " + Math.max(1, upTo.toSeconds())
            + " s for the host (unfinished files resume from the bytes kept)");
      }
    }

    @Override
    public void bytes(long n) {
      ProgressBar b = bar;
      if (b != null) {
        b.stepBy(n);
      }
    }

    @Override
    public void fileDone(TransferResult result) {}

    @Override
    public void close() {
      ProgressBar b = bar;
      bar = null;
      if (b != null) {
        b.close();
      }
    }
  }
}
