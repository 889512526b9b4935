package dev.thunderlink.daemon.cli;

import dev.thunderlink.daemon.internal.Doctor;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code thunderlink doctor}: checks what commonly goes wrong, and says how to fix it. */
@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    description = "Check the Thunderbolt bridge, MTU, socket-buffer limits, transports, TLS, peer reachability, clock skew and the sync sessions.")
public final class DoctorCommand implements Callable<Integer> {
  @Mixin HomeOption home;

  @Option(names = "--json", description = "Print JSON for scripts.")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    List<Doctor.Check> checks = new Doctor(home.resolve().dir()).run();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      JsonOut.print(out, checks);
    } else {
      for (Doctor.Check c : checks) {
        out.printf("[%-4s] %-28s %s%n", c.status(), c.name(), c.detail());
        if (!c.fix().isEmpty()) {
          out.printf("       %-28s fix: %s%n", "", c.fix());
        }
      }
      out.flush();
    }
    return checks.stream().anyMatch(c -> c.status().equals("fail")) ? 1 : 0;
  }
}
