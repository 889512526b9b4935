package dev.thunderlink.daemon.service;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * Installs, removes and reports the daemon as a per-user service: a launchd agent on macOS,
 * a systemd user unit on Linux. The file is written first, then the manager is told; with
 * {@code dryRun} both are only printed. Commands go through a {@link CommandRunner}, so
 * tests record them. Runs on the caller's thread; holds no mutable state.
 */
public abstract class ServiceManager {
  final Path userHome;
  final CommandRunner runner;

  ServiceManager(Path userHome, CommandRunner runner) {
    this.userHome = userHome;
    this.runner = runner;
  }

  /**
   * The manager for a platform.
   *
   * @param platform {@code launchd}, {@code systemd} or {@code auto} (from {@code os.name})
   * @param uid the user's id, for launchd's {@code gui/<uid>} domain
   */
  public static ServiceManager of(String platform, Path userHome, CommandRunner runner, long uid) {
    String p = platform.toLowerCase(Locale.ROOT);
    if (p.equals("auto")) {
      String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
      p = os.contains("mac") ? "launchd" : os.contains("linux") ? "systemd" : os;
    }
    switch (p) {
      case "launchd":
        return new LaunchdAgents(userHome, runner, uid);
      case "systemd":
        return new SystemdUserUnits(userHome, runner);
      default:
        throw new IllegalArgumentException(
            "--platform: " + platform + " (expected: launchd (macOS) or systemd (Linux); this system: "
                + System.getProperty("os.name") + ")");
    }
  }

  /** launchd or systemd. */
  public abstract String name();

  /** The plist or unit file for a role. */
  public abstract Path definitionFile(String role);

  /** The file's content for a spec. */
  public abstract String render(ServiceSpec spec);

  /** Directories to create before the file is written or the service started. */
  abstract List<Path> directories(ServiceSpec spec);

  /** Commands that (re)load the service after the file is written. */
  abstract List<List<String>> loadCommands(String role);

  abstract boolean firstLoadCommandMayFail();

  abstract List<List<String>> unloadCommands(String role);

  public abstract ServiceStatus status(String role) throws IOException, InterruptedException;

  /** Writes the definition and loads it; with {@code dryRun} prints both and changes nothing. */
  public void install(ServiceSpec spec, boolean dryRun, PrintWriter out) throws IOException, InterruptedException {
    Path file = definitionFile(spec.role());
    String content = render(spec);
    List<List<String>> commands = loadCommands(spec.role());
    if (dryRun) {
      out.println("# " + name() + " definition: " + file + " (dry run: not written)");
      out.print(content);
      out.println("# commands (dry run: not run):");
      for (List<String> c : commands) {
        out.println(String.join(" ", c));
      }
      out.flush();
      return;
    }
    for (Path d : directories(spec)) {
      Files.createDirectories(d);
    }
    writeAtomically(file, content);
    out.println("wrote " + file);
    for (int i = 0; i < commands.size(); i++) {
      CommandRunner.Result r = runner.run(commands.get(i));
      if (!r.ok() && !(i == 0 && firstLoadCommandMayFail())) {
        throw new IOException(
            String.join(" ", commands.get(i)) + " failed (exit " + r.exit() + "): " + r.output().strip());
      }
    }
    out.println("installed and started " + spec.description() + " with " + name());
    out.flush();
  }

  /** Stops and unloads the service and removes its file; says so when nothing was installed. */
  public void uninstall(String role, boolean dryRun, PrintWriter out) throws IOException, InterruptedException {
    Path file = definitionFile(role);
    List<List<String>> commands = unloadCommands(role);
    if (dryRun) {
      out.println("# commands (dry run: not run):");
      for (List<String> c : commands) {
        out.println(String.join(" ", c));
      }
      out.println("rm " + file);
      out.flush();
      return;
    }
    boolean existed = Files.exists(file);
    for (List<String> c : commands) {
      // Unloading something that is not loaded fails; that is the state we want anyway.
      runner.run(c);
    }
    Files.deleteIfExists(file);
    if (existed) {
      afterRemove();
    }
    out.println(existed ? "uninstalled " + file : "thunderlink " + role + " was not installed (" + file + " absent)");
    out.flush();
  }

  void afterRemove() throws IOException, InterruptedException {}

  static void writeAtomically(Path file, String content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, content);
    try {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
