package dev.thunderlink.daemon.cli;

import dev.thunderlink.daemon.config.ConfigLoader;
import dev.thunderlink.daemon.service.CommandRunner;
import dev.thunderlink.daemon.service.ServiceManager;
import dev.thunderlink.daemon.service.ServiceSpec;
import dev.thunderlink.daemon.service.ServiceStatus;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code thunderlink service install|uninstall|status}: runs the daemon in the background as a
 * launchd agent (macOS) or systemd user unit (Linux).
 */
@Command(
    name = "service",
    mixinStandardHelpOptions = true,
    description = {
      "Run a daemon in the background at login: a launchd agent on macOS, a systemd",
      "user unit on Linux. Example:",
      "  thunderlink service install connect -- \\",
      "      --path tb=169.254.3.7:7420 --path wifi=192.168.1.20:7420"
    },
    subcommands = {ServiceCommand.Install.class, ServiceCommand.Uninstall.class, ServiceCommand.Status.class})
public final class ServiceCommand implements Runnable {
  @Spec CommandLine.Model.CommandSpec spec;
  final Path userHome;
  final CommandRunner runner;
  final long uid;
  final Map<String, String> env;

  public ServiceCommand() {
    this(Path.of(System.getProperty("user.home")), CommandRunner.system(), currentUid(), System.getenv());
  }

  /** With a given user home, command runner and uid instead of the real ones (for tests). */
  public ServiceCommand(Path userHome, CommandRunner runner, long uid, Map<String, String> env) {
    this.userHome = userHome;
    this.runner = runner;
    this.uid = uid;
    this.env = Map.copyOf(env);
  }

  private static long currentUid() {
    try {
      return new com.sun.security.auth.module.UnixSystem().getUid();
    } catch (RuntimeException | LinkageError e) {
      return -1;
    }
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "service: a subcommand is required (install, uninstall or status)");
  }

  ServiceManager manager(String platform) {
    return ServiceManager.of(platform, userHome, runner, uid);
  }

  /** {@code service install serve|connect [-- ARGS]}. */
  @Command(name = "install", mixinStandardHelpOptions = true, description = "Write the service definition and start it.")
  static final class Install implements Callable<Integer> {
    @ParentCommand ServiceCommand parent;
    @Spec CommandLine.Model.CommandSpec spec;
    @Mixin HomeOption home;

    @Parameters(index = "0", paramLabel = "ROLE", description = "serve (host) or connect (workstation).")
    String role;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "The daemon's arguments; put them after `--`.")
    List<String> args = new ArrayList<>();

    @Option(names = "--dry-run", description = "Print the file and the commands; change nothing.")
    boolean dryRun;

    @Option(names = "--platform", paramLabel = "NAME", description = "auto (default), launchd or systemd.")
    String platform = "auto";

    @Option(names = "--jar", paramLabel = "PATH", description = "The thunderlink jar to run (default: the one running now).")
    Path jar;

    @Override
    public Integer call() throws Exception {
      String r = ServiceSpec.checkRole(role);
      // Refuse at install time what would make the service fail at every start.
      List<String> full = new ArrayList<>(List.of(r));
      full.addAll(args);
      try {
        ThunderlinkCommand.commandLine().parseArgs(full.toArray(String[]::new));
      } catch (CommandLine.ParameterException e) {
        throw new IllegalArgumentException("ARGS: " + String.join(" ", args) + " (expected: valid `thunderlink " + r + "` arguments: " + e.getMessage() + ")");
      }
      Path dir = home.resolve().dir();
      int grace = ConfigLoader.load(dir, parent.env, Map.of()).config().service().shutdownGraceSeconds();
      Path java = Path.of(System.getProperty("java.home"), "bin", "java");
      Path jarPath = jar != null ? jar.toAbsolutePath() : runningJar();
      String classPath = null;
      if (jarPath == null) {
        classPath = System.getProperty("java.class.path");
      } else if (!dryRun && !Files.isRegularFile(jarPath)) {
        throw new IllegalArgumentException("--jar: " + jarPath + " (expected: an existing jar file)");
      }
      ServiceSpec s = new ServiceSpec(r, java, jarPath, classPath, args, dir, grace);
      parent.manager(platform).install(s, dryRun, spec.commandLine().getOut());
      return 0;
    }

    /** The jar this code runs from, or null when it runs from a classes directory (a development build). */
    static Path runningJar() {
      try {
        Path p = Path.of(ServiceCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return Files.isRegularFile(p) && p.toString().endsWith(".jar") ? p.toAbsolutePath() : null;
      } catch (Exception e) {
        return null;
      }
    }
  }

  /** {@code service uninstall serve|connect}. */
  @Command(name = "uninstall", mixinStandardHelpOptions = true, description = "Stop the service and remove its definition.")
  static final class Uninstall implements Callable<Integer> {
    @ParentCommand ServiceCommand parent;
    @Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ROLE", description = "serve or connect.")
    String role;

    @Option(names = "--dry-run", description = "Print the commands; change nothing.")
    boolean dryRun;

    @Option(names = "--platform", paramLabel = "NAME", description = "auto (default), launchd or systemd.")
    String platform = "auto";

    @Override
    public Integer call() throws Exception {
      parent.manager(platform).uninstall(ServiceSpec.checkRole(role), dryRun, spec.commandLine().getOut());
      return 0;
    }
  }

  /** {@code service status [serve|connect]}. */
  @Command(name = "status", mixinStandardHelpOptions = true, description = "Report whether each service is installed and running.")
  static final class Status implements Callable<Integer> {
    @ParentCommand ServiceCommand parent;
    @Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "ROLE", description = "serve or connect (default: both).")
    String role;

    @Option(names = "--platform", paramLabel = "NAME", description = "auto (default), launchd or systemd.")
    String platform = "auto";

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      ServiceManager m = parent.manager(platform);
      List<ServiceStatus> all = new ArrayList<>();
      for (String r : role == null ? List.of("serve", "connect") : List.of(ServiceSpec.checkRole(role))) {
        all.add(m.status(r));
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        JsonOut.print(out, all.stream().map(s -> Map.of(
            "role", s.role(), "manager", s.manager(), "definition", s.definition().toString(),
            "installed", s.installed(), "loaded", s.loaded(), "state", s.state(), "pid", s.pid())).toList());
      } else {
        all.forEach(s -> out.println(s.toText()));
        out.flush();
      }
      return 0;
    }
  }
}
