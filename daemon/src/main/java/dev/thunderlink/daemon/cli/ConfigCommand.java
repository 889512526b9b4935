package dev.thunderlink.daemon.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.daemon.config.ConfigException;
import dev.thunderlink.daemon.config.ConfigLoader;
import dev.thunderlink.daemon.config.LoadedConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code thunderlink config check|show}: validates and prints HOME/config.toml merged with the environment and flags. */
@Command(
    name = "config",
    mixinStandardHelpOptions = true,
    description = "Check or show the configuration (HOME/config.toml, THUNDERLINK_* variables, flags).",
    subcommands = {ConfigCommand.Check.class, ConfigCommand.Show.class})
public final class ConfigCommand implements Runnable {
  @Spec CommandLine.Model.CommandSpec spec;

  /** The environment the loader sees. */
  final Map<String, String> env;

  public ConfigCommand() {
    this(System.getenv());
  }

  /** With a given environment instead of the process's (for tests). */
  public ConfigCommand(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "config: a subcommand is required (check or show)");
  }

  /** Options shared by check and show. */
  static final class Common {
    @Mixin HomeOption home;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Option(
        names = "--set",
        paramLabel = "KEY=VALUE",
        description = "Override a key as a flag would (repeatable), e.g. --set metrics.port=0.")
    List<String> sets = new java.util.ArrayList<>();

    Map<String, String> flags() {
      Map<String, String> flags = new LinkedHashMap<>();
      for (String s : sets) {
        int eq = s.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("--set: " + s + " (expected: KEY=VALUE, e.g. metrics.port=0)");
        }
        flags.put(s.substring(0, eq).trim(), s.substring(eq + 1).trim());
      }
      return flags;
    }

    Path dir() {
      return home.resolve().dir();
    }
  }

  /** {@code config check}: exit 0 and "ok" when the config is usable, 2 with one line per problem otherwise. */
  @Command(name = "check", mixinStandardHelpOptions = true, description = "Validate the configuration; list every bad value.")
  static final class Check implements Callable<Integer> {
    @Mixin Common common;
    @CommandLine.ParentCommand ConfigCommand parent;
    @Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      Path dir = common.dir();
      try {
        LoadedConfig c = ConfigLoader.load(dir, parent.env, common.flags());
        if (common.json) {
          ObjectNode n = JsonOut.MAPPER.createObjectNode();
          n.put("ok", true);
          n.put("file", c.file().toString());
          n.put("file_exists", c.fileExists());
          n.set("problems", JsonOut.MAPPER.createArrayNode());
          n.set("warnings", JsonOut.MAPPER.valueToTree(c.warnings()));
          JsonOut.print(out, n);
        } else {
          c.warnings().forEach(w -> err.println("warning: " + w));
          out.println("config ok: " + c.file() + (c.fileExists() ? "" : " (absent: defaults apply)"));
          out.flush();
        }
        return 0;
      } catch (ConfigException e) {
        if (common.json) {
          ObjectNode n = JsonOut.MAPPER.createObjectNode();
          n.put("ok", false);
          n.put("file", dir.resolve(ConfigLoader.FILE_NAME).toString());
          n.set("problems", JsonOut.MAPPER.valueToTree(e.problems()));
          n.set("warnings", JsonOut.MAPPER.valueToTree(e.warnings()));
          JsonOut.print(out, n);
        } else {
          e.warnings().forEach(w -> err.println("warning: " + w));
          e.problems().forEach(p -> err.println("thunderlink: " + p));
          err.flush();
        }
        return 2;
      }
    }
  }

  /** {@code config show}: every effective value and where it came from (default, file, environment, flag). */
  @Command(name = "show", mixinStandardHelpOptions = true, description = "Print every effective value and where it came from.")
  static final class Show implements Callable<Integer> {
    @Mixin Common common;
    @CommandLine.ParentCommand ConfigCommand parent;
    @Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      try {
        LoadedConfig c = ConfigLoader.load(common.dir(), parent.env, common.flags());
        if (common.json) {
          JsonOut.print(out, c.toJson());
        } else {
          out.print(c.toText());
          out.flush();
        }
        return 0;
      } catch (ConfigException e) {
        e.warnings().forEach(w -> err.println("warning: " + w));
        e.problems().forEach(p -> err.println("thunderlink: " + p));
        err.flush();
        return 2;
      }
    }
  }
}
