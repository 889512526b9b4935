package dev.thunderlink.daemon.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code thunderlink unpair ID}: forget a peer; its connections are refused from then on. */
@Command(name = "unpair", mixinStandardHelpOptions = true, description = "Remove a paired peer by device id (see `thunderlink peers`).")
public final class UnpairCommand implements Callable<Integer> {
  @Mixin HomeOption home;

  @Parameters(index = "0", paramLabel = "ID", description = "Device id (e.g. 1A2B-3C4D-5E6F-7A8B) or fingerprint prefix.")
  String id;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!home.resolve().peers().remove(id)) {
      throw new IllegalArgumentException("ID: " + id + " (no paired peer has that id; see `thunderlink peers`)");
    }
    spec.commandLine().getOut().println("unpaired " + id);
    spec.commandLine().getOut().flush();
    return 0;
  }
}
