package dev.thunderlink.daemon.cli;

import dev.thunderlink.transport.LinkVersion;
import java.util.ArrayList;
import java.util.List;
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
    CommandLine cl = commandLine(args);
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
   * The command line to run {@code args} with: when they start with a subcommand's name, the
   * top-level command with only that subcommand (help, a top-level option or anything else: with
   * all of them). Picocli builds and reflects on every registered command up front, and made a
   * {@code cp} load and initialize the classes of all 17 (gRPC stubs, Jackson mappers, ...)
   * before it parsed a word.
   */
  public static CommandLine commandLine(String... args) {
    CommandLine cl = new CommandLine(new ThunderlinkCommand());
    List<String> names = new ArrayList<>();
    for (Class<?> c : SUBCOMMANDS) {
      names.add(c.getAnnotation(CommandLine.Command.class).name());
    }
    boolean one = args.length > 0 && !args[0].equals("help") && names.contains(args[0]);
    for (int i = 0; i < names.size(); i++) {
      if (!one || names.get(i).equals(args[0])) {
        cl.addSubcommand(names.get(i), SUBCOMMANDS.get(i));
      }
    }
    return cl;
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
