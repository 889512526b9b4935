package dev.thunderlink.daemon.cli;

import dev.thunderlink.inference.ModelsReport;
import dev.thunderlink.transport.LocalControlServer;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code thunderlink models}: the host scheduler's view: loaded models, queues, waits, loads, swaps. */
@Command(name = "models", mixinStandardHelpOptions = true, description = "Show loaded models, queues per model and class, waits, loads and swaps.")
public final class ModelsCommand implements Callable<Integer> {
  @Mixin HomeOption home;

  @Option(names = "--json", description = "Print JSON for scripts.")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    try (LocalControlServer.Connection c = LocalControlServer.connect(home.resolve().dir())) {
      spec.commandLine().getOut().print(ModelsReport.render(ModelsReport.fetch(c.channel()), json));
      spec.commandLine().getOut().flush();
    }
    return 0;
  }
}
