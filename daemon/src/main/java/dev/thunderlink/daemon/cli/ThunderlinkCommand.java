package dev.thunderlink.daemon.cli;

import dev.thunderlink.transport.LinkVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The top-level {@code thunderlink} command; each job is a subcommand ({@link #SUBCOMMANDS}),
 * registered by {@link #commandLine}.
 */
@Command(
    name = "thunderlink",
    mixinStandardHelpOptions = true,
    versionProvider = ThunderlinkCommand.Version.class,
    description = {
      "A fast private development link between a workstation (MacBook) and a host",
      "(Mac mini) over Thunderbolt.",
      "",
      "Quick start on one machine: thunderlink demo",
      "On the host: thunderlink serve; thunderlink pair",
      "On the workstation: thunderlink pair HOST CODE; thunderlink connect HOST"
    })
public final class ThunderlinkCommand implements Runnable {
  /** The subcommands, in the order the usage lists them. */
  static final List<Class<?>> SUBCOMMANDS =
      List.of(
          ServeCommand.class,
          ConnectCommand.class,
          StatusCommand.class,
          PingCommand.class,
          PairCommand.class,
          PeersCommand.class,
          UnpairCommand.class,
          DoctorCommand.class,
          DemoCommand.class,
          BenchCommand.class,
          SyncCommand.class,
          ModelsCommand.class,
          dev.thunderlink.daemon.cp.CpCommand.class,
          ConfigCommand.class,
          ServiceCommand.class,
          LogsCommand.class,
          CommandLine.HelpCommand.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (try `thunderlink --help`)");
  }

  /** Runs the command line and returns the exit code: 0 ok, 1 failed, 2 bad usage. */
  public static int run(String... args) {
    return run(commandLine(args), args);
  }

  /** Runs {@code args} on {@code cl} (built by {@link #commandLine}; tests give it their own writers), errors as one line. */
  static int run(CommandLine cl, String... args) {
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          commandLine.getErr().println("thunderlink: " + CliErrors.message(ex));
          if (Boolean.getBoolean("thunderlink.debug")) {
            ex.printStackTrace(commandLine.getErr());
          }
          return ex instanceof IllegalArgumentException ? 2 : 1;
        });
    return cl.execute(args);
  }

  /**
   * Commands whose subcommands are registered by {@link #commandLine} rather than by their
   * annotation, so that {@code sync flush} builds {@code flush} alone: picocli's reflection over
   * the other seven (their annotations, help mixins, option types) cost each {@code sync list},
   * {@code create} and {@code flush} ~0.05-0.1 s of CPU (8 alternating runs each, load 14).
   */
  private static final Map<Class<?>, List<Class<?>>> NESTED = Map.of(SyncCommand.class, SyncCommand.SUBCOMMANDS);

  /**
   * The command line to run {@code args} with: when they start with a subcommand's name, the
   * top-level command with only that subcommand (help, a top-level option or anything else: with
   * all of them), and the same one level down ({@link #NESTED}). Picocli builds and reflects on
   * every registered command up front, and made a {@code cp} load and initialize the classes of
   * all 17 (gRPC stubs, Jackson mappers, ...) before it parsed a word.
   */
  public static CommandLine commandLine(String... args) {
    CommandLine cl = new CommandLine(new ThunderlinkCommand());
    addSubcommands(cl, SUBCOMMANDS, List.of(args));
    return cl;
  }

  /** Adds {@code commands} to {@code cl}: only the one {@code args} start with, if they do. */
  private static void addSubcommands(CommandLine cl, List<Class<?>> commands, List<String> args) {
    List<String> names = new ArrayList<>();
    for (Class<?> c : commands) {
      names.add(c.getAnnotation(CommandLine.Command.class).name());
    }
    boolean one = !args.isEmpty() && !args.get(0).equals("help") && names.contains(args.get(0));
    for (int i = 0; i < names.size(); i++) {
      if (!one || names.get(i).equals(args.get(0))) {
        cl.addSubcommand(names.get(i), commands.get(i));
        List<Class<?>> nested = NESTED.get(commands.get(i));
        if (nested != null) {
          addSubcommands(cl.getSubcommands().get(names.get(i)), nested, one ? args.subList(1, args.size()) : List.of());
        }
      }
    }
  }

  /** Prints the release and protocol versions. */
  public static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {
        "thunderlink " + LinkVersion.DAEMON + " (protocol " + LinkVersion.PROTOCOL + ", Java " + Runtime.version() + ")"
      };
    }
  }
}
