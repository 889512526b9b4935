package dev.thunderlink.daemon.cli;

import dev.thunderlink.transport.LinkVersion;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The top-level {@code thunderlink} command; each job is a subcommand. */
@Command(
    name = "thunderlink",
    mixinStandardHelpOptions = true,
    versionProvider = ThunderlinkCommand.Version.class,
    description = {
      "A fast private development link between a workstation (MacBook) and a host (Mac mini) over Thunderbolt.",
      "",
      "Quick start on one machine: thunderlink demo",
      "On the host: thunderlink serve; thunderlink pair",
      "On the workstation: thunderlink pair HOST CODE; thunderlink connect HOST"
    },
    subcommands = {
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
      CommandLine.HelpCommand.class
    })
public final class ThunderlinkCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (try `thunderlink --help`)");
  }

  /** Runs the command line and returns the exit code: 0 ok, 1 failed, 2 bad usage. */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new ThunderlinkCommand());
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
