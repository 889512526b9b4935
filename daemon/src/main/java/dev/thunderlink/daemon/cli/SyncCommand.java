package dev.thunderlink.daemon.cli;

import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.thunderlink.proto.synccontrol.SyncConflict;
import dev.thunderlink.proto.synccontrol.SyncConflictsResponse;
import dev.thunderlink.proto.synccontrol.SyncControlGrpc;
import dev.thunderlink.proto.synccontrol.SyncCreateRequest;
import dev.thunderlink.proto.synccontrol.SyncEvent;
import dev.thunderlink.proto.synccontrol.SyncEventsRequest;
import dev.thunderlink.proto.synccontrol.SyncFlushRequest;
import dev.thunderlink.proto.synccontrol.SyncListRequest;
import dev.thunderlink.proto.synccontrol.SyncNameRequest;
import dev.thunderlink.proto.synccontrol.SyncResumeRequest;
import dev.thunderlink.proto.synccontrol.SyncSessionStatus;
import dev.thunderlink.transport.LocalControlServer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code thunderlink sync ...}: the mirror's sessions, driven through the workstation daemon. */
@Command(
    name = "sync",
    mixinStandardHelpOptions = true,
    description = "Mirror a project tree between the workstation and the host, continuously, both ways.")
public final class SyncCommand implements Runnable {
  /**
   * The subcommands, in the order the usage lists them; {@link ThunderlinkCommand#commandLine}
   * registers them (only the one named, for {@code sync create} and the like).
   */
  static final List<Class<?>> SUBCOMMANDS =
      List.of(Create.class, ListCmd.class, StatusCmd.class, Conflicts.class, Pause.class, Resume.class, Terminate.class, Flush.class,
          Events.class);

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Shared options and the call plumbing. */
  abstract static class Base implements Callable<Integer> {
    @Mixin HomeOption home;

    @Option(names = "--json", description = "Print JSON for scripts.")
    boolean json;

    @Spec CommandSpec spec;

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    interface Body<T> {
      T call(SyncControlGrpc.SyncControlBlockingStub stub) throws Exception;
    }

    /** Calls the workstation daemon; {@code deadlineSeconds <= 0}: no deadline (a stream that runs until stopped). */
    <T> T call(long deadlineSeconds, Body<T> body) throws Exception {
      try (LocalControlServer.Connection c = LocalControlServer.connect(home.resolve().dir())) {
        if (!c.role().equals("workstation")) {
          throw new IllegalStateException("sync sessions live on the workstation daemon; this home runs the " + c.role());
        }
        SyncControlGrpc.SyncControlBlockingStub stub = SyncControlGrpc.newBlockingStub(c.channel());
        return body.call(deadlineSeconds > 0 ? stub.withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS) : stub);
      }
    }

    /**
     * Builds the sync protos' descriptors on a thread of their own while the call is under way.
     * A session's status has map fields (its per-path errors), and the first access to one
     * builds them (the whole file's descriptors) even when the map is empty: ~80 ms of a cold
     * command, after the answer came, before it printed (`sync status`, `create --wait`).
     */
    static void buildDescriptorsMeanwhile() {
      Thread t = new Thread(new DescriptorInit(), "thunderlink-proto-init"); // a class, not a lambda: no call site to link
      t.setDaemon(true);
      t.start();
    }

    private static final class DescriptorInit implements Runnable {
      @Override
      public void run() {
        dev.thunderlink.proto.synccontrol.SyncControlProto.getDescriptor();
      }
    }

    void printJson(MessageOrBuilder m) throws Exception {
      out().println(ProtoJson.pretty(m, JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence()));
      out().flush();
    }

    void printStatus(SyncSessionStatus s) {
      PrintWriter o = out();
      o.printf("%s  [%s, %s]%n", s.getName(), s.getState(), s.getMode());
      if (s.getState().equals("NOT_STARTED")) {
        // persisted, not running: the host out of reach, its folder missing, ... (retried by the daemon)
        if (!s.getLocalRoot().isEmpty()) {
          o.printf("  %s <-> host:%s%n", s.getLocalRoot(), s.getRemoteRoot());
        }
        o.printf("  NOT STARTED: %s%n", s.getLastError());
        o.flush();
        return;
      }
      if (!s.getLocalRoot().isEmpty()) {
        // a halted or paused session runs no sync: "first sync running" was shown for one halted
        // since before the daemon's restart, for as long as it stayed halted
        boolean firstSyncRunning = !s.getFirstSyncDone() && s.getState().equals("RUNNING");
        o.printf("  %s <-> host:%s%s%n", s.getLocalRoot(), s.getRemoteRoot(), firstSyncRunning ? " (first sync running)" : "");
      }
      if (!s.getHaltReason().isEmpty() && s.getState().equals("PAUSED")) {
        o.printf("  PAUSED: %s%n", s.getHaltReason());
      } else if (!s.getHaltReason().isEmpty()) {
        o.printf("  HALTED: %s%n  (check, then `thunderlink sync resume %s --force` to go on)%n", s.getHaltReason(), s.getName());
        if (s.getMassDeletionPercent() > 0) {
          o.printf("  safety stop: %d%% of a side, more than %d entries ([sync] mass_deletion_percent and"
              + " mass_deletion_min_entries, or sync create's --mass-deletion-percent)%n", s.getMassDeletionPercent(),
              s.getMassDeletionMinEntries());
        }
      }
      if (!s.getWaiting().isEmpty()) {
        o.printf("  WAITING: %s%n", s.getWaiting());
      }
      o.printf(
          "  entries: %d local, %d remote; %d files sent (%d bytes, %d reused), %d renames, %d conflicts%n",
          s.getLocalEntries(), s.getRemoteEntries(), s.getFilesTransferred(), s.getBytesSent(), s.getBytesReused(),
          s.getRenamesApplied(), s.getConflicts());
      String progress = SyncProgressView.line(s.getProgress());
      if (progress != null) {
        o.println("  " + progress);
      }
      if (s.getState().equals("DISCONNECTED")) {
        o.printf("  DISCONNECTED: %s%n", s.getLastError()); // running; why the host is out of reach
      } else if (!s.getLastError().isEmpty()) {
        o.printf("  last error: %s%n", s.getLastError());
      }
      for (Map.Entry<String, String> e : s.getErrorsMap().entrySet()) {
        o.printf("  problem: %s: %s%n", e.getKey(), e.getValue());
      }
      for (String c : s.getCollisionsList()) {
        o.printf("  name collision: %s%n", c);
      }
      o.flush();
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a session and start syncing.")
  static final class Create extends Base {
    @Parameters(index = "0", paramLabel = "NAME", description = "Session name.")
    String name;

    @Option(names = "--local", required = true, paramLabel = "PATH", description = "Folder on this machine.")
    Path local;

    @Option(names = "--remote", required = true, paramLabel = "PATH", description = "Folder on the host: an absolute path, or ~/PATH in the host user's home.")
    String remote;

    @Option(names = "--mode", paramLabel = "MODE", description = "two-way-safe (default), two-way-resolved, one-way-replica.")
    String mode = "two-way-safe";

    @Option(names = "--ignore", paramLabel = "PATTERN", description = "Ignore pattern, .gitignore syntax (repeatable).")
    List<String> ignores = new ArrayList<>();

    @Option(names = "--vcs", paramLabel = "sync|ignore", description = "Sync .git (default) or ignore it.")
    String vcs = "sync";

    @Option(names = "--use-gitignore", description = "Also honour the tree's .gitignore files.")
    boolean useGitignore;

    @Option(names = "--outside-symlinks", paramLabel = "refuse|keep", description = "Symlinks pointing outside the root: refuse (default) or keep as-is.")
    String outsideSymlinks = "refuse";

    @Option(names = "--mass-deletion-percent", paramLabel = "P", description = "Safety stop: halt rather than delete at"
        + " least P%% (1-100) of a side's entries at once (default: [sync] mass_deletion_percent, 50).")
    Integer massDeletionPercent;

    @Option(names = "--mass-deletion-min-entries", paramLabel = "N", description = "Safety stop: only when that deletion is"
        + " more than N entries (default: [sync] mass_deletion_min_entries, 20).")
    Integer massDeletionMinEntries;

    @Option(names = "--wait", description = "Return once the first sync is done (exit 1 on timeout; the session stays).")
    boolean waitForSync;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "With --wait: give up after this long (default 600).")
    Integer timeoutSeconds;

    @Option(names = "--no-progress", description = "With --wait: no progress bar, even on a terminal.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
      buildDescriptorsMeanwhile();
      dev.thunderlink.sync.SyncSessionConfig.checkName(name); // bad usage (exit 2) before the daemon is asked
      if (!remote.startsWith("/") && !remote.equals("~") && !remote.startsWith("~/")) {
        throw new IllegalArgumentException("--remote: " + remote
            + " (expected: an absolute path on the host, like /Users/me/project, or ~/project in its user's home)");
      }
      if (timeoutSeconds != null && !waitForSync) {
        throw new IllegalArgumentException("--timeout: only with --wait (without it, create returns at once)");
      }
      // bad usage (exit 2) before the daemon is asked
      dev.thunderlink.sync.SyncSessions.checkMassDeletion(massDeletionPercent == null ? null : (long) massDeletionPercent,
          massDeletionMinEntries == null ? null : (long) massDeletionMinEntries);
      int timeout = timeoutSeconds == null ? 600 : timeoutSeconds;
      if (timeout < 1) {
        throw new IllegalArgumentException("--timeout: " + timeout + " (expected: >= 1)");
      }
      long t0 = System.nanoTime();
      int wait = waitForSync ? timeout : 0;
      SyncSessionStatus s;
      try {
        // on a terminal, --wait shows the first sync's progress (the daemon's status, polled)
        boolean bar = wait > 0 && !json && !noProgress && System.console() != null;
        s = call(120L + wait, stub -> {
          SyncProgressView progress = bar
              ? new SyncProgressView(name, System.currentTimeMillis() - 1000, SyncProgressView.terminal(), System.err)
              : null;
          if (progress != null) {
            SyncNameRequest named = SyncNameRequest.newBuilder().setName(name).build();
            progress.follow(() -> stub.withDeadlineAfter(5, TimeUnit.SECONDS).status(named));
          }
          try {
            SyncCreateRequest.Builder req =
                SyncCreateRequest.newBuilder()
                    .setName(name)
                    .setLocalRoot(local.toAbsolutePath().normalize().toString())
                    .setRemoteRoot(remote)
                    .setMode(mode)
                    .addAllIgnores(ignores)
                    .setVcs(vcs)
                    .setUseGitignoreFiles(useGitignore)
                    .setOutsideSymlinks(outsideSymlinks)
                    .setWaitSeconds(wait);
            if (massDeletionPercent != null) {
              req.setMassDeletionPercent(massDeletionPercent);
            }
            if (massDeletionMinEntries != null) {
              req.setMassDeletionMinEntries(massDeletionMinEntries);
            }
            SyncSessionStatus created = stub.create(req.build());
            if (wait > 0 && !created.getFirstSyncDone()) { // a daemon from before --wait answered at once
              long left = Math.max(1, wait - TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
              created = stub.flush(SyncFlushRequest.newBuilder().setName(name).setTimeoutSeconds((int) left).build());
            }
            if (progress != null) {
              progress.finish(created);
            }
            return created;
          } finally {
            if (progress != null) {
              progress.close();
            }
          }
        });
      } catch (StatusRuntimeException e) {
        if (wait > 0 && e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
          throw new IllegalStateException("sync create " + name + ": created, but the first sync was not done after "
              + timeout + " s (" + (e.getStatus().getDescription() == null ? "timed out" : e.getStatus().getDescription())
              + "); it goes on: see `thunderlink sync status " + name + "`");
        }
        throw e;
      }
      if (json) {
        printJson(s);
      } else {
        out().printf("created session %s%n", name); // its folders are the status's second line
        printStatus(s);
        if (wait > 0) {
          out().println(name + " is in sync (" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms)");
          out().flush();
        }
      }
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List sessions.")
  static final class ListCmd extends Base {
    @Override
    public Integer call() throws Exception {
      buildDescriptorsMeanwhile();
      var r = call(ControlCalls.QUICK_SECONDS, stub -> stub.list(SyncListRequest.getDefaultInstance()));
      if (json) {
        printJson(r);
      } else if (r.getSessionsCount() == 0) {
        out().println("no sync sessions; create one with `thunderlink sync create NAME --local PATH --remote PATH`");
        out().flush();
      } else {
        for (SyncSessionStatus s : r.getSessionsList()) {
          printStatus(s);
        }
      }
      return 0;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "One session's state, counters and problems.")
  static final class StatusCmd extends Base {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--watch", description = "Show it again every --interval seconds until Ctrl-C, as `mutagen sync monitor`"
        + " does (redrawn on a terminal; with --json, one object per line).")
    boolean watch;

    @Option(names = "--interval", paramLabel = "S", description = "With --watch: seconds between refreshes (default 1).")
    Double interval;

    @Option(names = "--count", paramLabel = "N", description = "With --watch: stop after N refreshes.")
    Integer count;

    @Override
    public Integer call() throws Exception {
      if (!watch && (interval != null || count != null)) {
        throw new IllegalArgumentException((interval != null ? "--interval" : "--count") + ": only with --watch");
      }
      if (interval != null && !(interval >= 0.1 && interval <= 3600)) {
        throw new IllegalArgumentException("--interval: " + interval + " (expected: 0.1 to 3600 seconds)");
      }
      if (count != null && count < 1) {
        throw new IllegalArgumentException("--count: " + count + " (expected: >= 1)");
      }
      buildDescriptorsMeanwhile();
      boolean redraw = watch && !json && System.console() != null;
      long pauseMillis = Math.round((interval == null ? 1.0 : interval) * 1000);
      for (int shown = 0; ; ) {
        SyncSessionStatus s = call(ControlCalls.QUICK_SECONDS, stub -> stub.status(SyncNameRequest.newBuilder().setName(name).build()));
        if (json && watch) {
          out().println(JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence()
              .omittingInsignificantWhitespace().print(s)); // one object per line, for scripts reading a stream
          out().flush();
        } else if (json) {
          printJson(s);
        } else {
          if (redraw) {
            out().print("\033[H\033[2J"); // home and clear: a view that stays in place
          }
          printStatus(s);
        }
        if (!watch || (count != null && ++shown >= count)) {
          return 0;
        }
        Thread.sleep(pauseMillis);
      }
    }
  }

  @Command(name = "conflicts", mixinStandardHelpOptions = true, description = "Conflicts kept as copies (both versions survive).")
  static final class Conflicts extends Base {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws Exception {
      SyncConflictsResponse r = call(ControlCalls.QUICK_SECONDS, stub -> stub.conflicts(SyncNameRequest.newBuilder().setName(name).build()));
      if (json) {
        printJson(r);
      } else if (r.getConflictsCount() == 0) {
        out().println("no conflicts");
      } else {
        for (SyncConflict c : r.getConflictsList()) {
          out().printf("%s  ->  %s  (%s, %s, %s)%n", c.getPath(), c.getCopyPath(), c.getDevice(), Instant.ofEpochMilli(c.getAtUnixMillis()), c.getReason());
        }
      }
      out().flush();
      return 0;
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause a session (stays paused across restarts).")
  static final class Pause extends Base {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws Exception {
      SyncSessionStatus s = call(30, stub -> stub.pause(SyncNameRequest.newBuilder().setName(name).build()));
      if (json) {
        printJson(s);
      } else {
        out().println("paused " + name);
        out().flush();
      }
      return 0;
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a session; --force confirms a halted mass deletion.")
  static final class Resume extends Base {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--force", description = "Go on after a safety stop (e.g. most of the tree deleted on one side).")
    boolean force;

    @Override
    public Integer call() throws Exception {
      SyncSessionStatus s = call(30, stub -> stub.resume(SyncResumeRequest.newBuilder().setName(name).setForce(force).build()));
      if (json) {
        printJson(s);
      } else {
        out().println("resumed " + name);
        out().flush();
      }
      return 0;
    }
  }

  @Command(name = "terminate", mixinStandardHelpOptions = true, description = "Stop a session and delete its state on both sides (files stay).")
  static final class Terminate extends Base {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws Exception {
      var r = call(30, stub -> stub.terminate(SyncNameRequest.newBuilder().setName(name).build()));
      if (json) {
        printJson(r);
      } else {
        out().println("terminated " + name + " (the files on both sides are untouched)");
        out().flush();
      }
      return 0;
    }
  }

  @Command(
      name = "flush",
      mixinStandardHelpOptions = true,
      description = "Return once every change made on either side before this call has reached the other side (exit 1 on timeout).")
  static final class Flush extends Base {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "Give up after this long (default ${DEFAULT-VALUE}).")
    int timeoutSeconds = 60;

    @Override
    public Integer call() throws Exception {
      buildDescriptorsMeanwhile();
      if (timeoutSeconds < 1) {
        throw new IllegalArgumentException("--timeout: " + timeoutSeconds + " (expected: >= 1)");
      }
      long t0 = System.nanoTime();
      SyncSessionStatus s;
      try {
        s = call(timeoutSeconds + 5L, stub -> stub.flush(
            SyncFlushRequest.newBuilder().setName(name).setTimeoutSeconds(timeoutSeconds).build()));
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
          throw new IllegalStateException("sync flush " + name + ": not in sync after " + timeoutSeconds + " s ("
              + (e.getStatus().getDescription() == null ? "timed out" : e.getStatus().getDescription()) + ")");
        }
        throw e;
      }
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      if (json) {
        printJson(s);
      } else {
        // not printf: its %d loads the locale's number formats (~10-15 ms of CPU) for one number
        out().println(name + " is in sync (" + ms + " ms)");
        out().flush();
      }
      return 0;
    }
  }

  @Command(
      name = "events",
      mixinStandardHelpOptions = true,
      description = {
        "Print the sessions' events as they happen, one line each, until stopped.",
        "Ends on Ctrl-C, after --count events or --duration, or when session NAME",
        "is terminated. Kinds: applied (a change reached the other side; detail: the",
        "direction), conflict, error, paused (a full disk), halted (a safety stop),",
        "dropped (events a too-slow reader missed), changed (the session's state or",
        "counters moved; sampled every 0.1 s) and terminated (the session is gone).",
        "--json prints JSON Lines: at_unix_millis, kind, path, detail and status (the",
        "whole status on changed, only the session's name otherwise)."
      })
  static final class Events extends Base {
    /** The engine's pushed kinds, then the stream's own: a reader too slow, and the sampled ones. */
    static final List<String> KINDS = java.util.stream.Stream.concat(
        java.util.Arrays.stream(dev.thunderlink.sync.SyncChange.Kind.values()).map(k -> k.name().toLowerCase(java.util.Locale.ROOT)),
        java.util.stream.Stream.of("dropped", "changed", "terminated")).toList();
    private static final java.time.format.DateTimeFormatter CLOCK = java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    private static final int CLOCK_WIDTH = "HH:mm:ss.SSS".length();

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "One session (default: every session).")
    String name;

    @Option(names = "--kind", paramLabel = "KIND", description = "Only events of this kind (repeatable).")
    List<String> kinds = new ArrayList<>();

    @Option(names = "--count", paramLabel = "N", description = "Stop after N events (printed ones, after --kind).")
    Integer count;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "Stop after this long (exit 0).")
    Integer durationSeconds;

    @Override
    public Integer call() throws Exception {
      for (String k : kinds) {
        if (!KINDS.contains(k)) {
          throw new IllegalArgumentException("--kind: " + k + " (expected one of: " + String.join(", ", KINDS) + ")");
        }
      }
      if (count != null && count < 1) {
        throw new IllegalArgumentException("--count: " + count + " (expected: >= 1)");
      }
      if (durationSeconds != null && durationSeconds < 1) {
        throw new IllegalArgumentException("--duration: " + durationSeconds + " (expected: >= 1)");
      }
      JsonFormat.Printer jsonLine = JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
      JsonFormat.Printer jsonStatusLine = jsonLine.alwaysPrintFieldsWithNoPresence();
      long deadline = durationSeconds == null ? 0 : durationSeconds;
      try {
        return call(deadline, stub -> {
          if (name != null) {
            // an unknown name fails here, with the daemon's own message, instead of waiting forever
            stub.withDeadlineAfter(ControlCalls.QUICK_SECONDS, TimeUnit.SECONDS).status(SyncNameRequest.newBuilder().setName(name).build());
          }
          java.util.Iterator<SyncEvent> it = stub.events(SyncEventsRequest.newBuilder().setName(name == null ? "" : name).build());
          int printed = 0;
          // for a person, a changed line that reads as the session's last one is left out (what
          // moved is a counter the line does not show); scripts (--json) get every event
          Map<String, String> lastSummary = new java.util.HashMap<>();
          while (it.hasNext()) {
            SyncEvent e = it.next();
            boolean ended = name != null && e.getKind().equals("terminated");
            if (kinds.isEmpty() || kinds.contains(e.getKind())) {
              String text = json ? ProtoJson.line(e, e.getKind().equals("changed") ? jsonStatusLine : jsonLine) : line(e);
              boolean repeat = false;
              if (!json && e.getKind().equals("changed")) {
                String summary = text.substring(CLOCK_WIDTH);
                repeat = summary.equals(lastSummary.put(e.getStatus().getName(), summary));
              }
              if (!repeat) {
                out().println(text);
                out().flush();
                printed++;
              }
            }
            if (ended || (count != null && printed >= count)) {
              return 0;
            }
          }
          return 0;
        });
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.DEADLINE_EXCEEDED && durationSeconds != null) {
          return 0; // --duration is over
        }
        if (code == Status.Code.UNAVAILABLE || code == Status.Code.CANCELLED) {
          throw new IllegalStateException("the workstation daemon stopped sending events (" + CliErrors.message(e)
              + "); start it again with `thunderlink connect HOST`");
        }
        throw e;
      }
    }

    /** One event for a person: time, session, kind, then the path and detail or a summary of the status. */
    static String line(SyncEvent e) {
      StringBuilder b = new StringBuilder()
          .append(CLOCK.format(Instant.ofEpochMilli(e.getAtUnixMillis()).atZone(java.time.ZoneId.systemDefault())))
          .append("  ").append(e.getStatus().getName()).append("  ").append(e.getKind());
      if (e.getKind().equals("changed")) {
        SyncSessionStatus s = e.getStatus();
        b.append("  ").append(s.getState()).append(": ").append(s.getLocalEntries()).append(" local / ")
            .append(s.getRemoteEntries()).append(" remote entries, ").append(s.getFilesTransferred()).append(" files sent (")
            .append(s.getBytesSent()).append(" bytes), ").append(s.getConflicts()).append(" conflicts");
        if (s.getErrorsCount() > 0) {
          b.append(", ").append(s.getErrorsCount()).append(" problems");
        }
        if (!s.getHaltReason().isEmpty()) {
          b.append("; ").append(s.getHaltReason());
        }
        if (s.getProgress().getActive()) {
          b.append("; ").append(SyncProgressView.line(s.getProgress()));
        }
      } else {
        if (!e.getPath().isEmpty()) {
          b.append("  ").append(e.getPath());
        }
        if (!e.getDetail().isEmpty()) {
          b.append("  ").append(e.getDetail());
        }
      }
      return b.toString();
    }
  }
}
