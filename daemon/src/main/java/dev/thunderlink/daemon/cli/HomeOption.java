package dev.thunderlink.daemon.cli;

import dev.thunderlink.daemon.DaemonHome;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --home DIR}, shared by every command. */
public final class HomeOption {
  @Option(
      names = "--home",
      paramLabel = "DIR",
      description = "State directory: keys, peers, control socket, logs (default: $THUNDERLINK_HOME or ~/.thunderlink).")
  Path home;

  public DaemonHome resolve() {
    return DaemonHome.resolve(home);
  }
}
