package dev.thunderlink.daemon;

import dev.thunderlink.daemon.cli.ThunderlinkCommand;
import java.util.Set;

/** Entry point of the {@code thunderlink} command: sets up logging and hands off to picocli. */
public final class Main {
  private static final Set<String> DAEMON_COMMANDS = Set.of("serve", "connect", "demo");

  private Main() {}

  public static void main(String[] args) {
    boolean daemon = args.length > 0 && java.util.Arrays.stream(args).anyMatch(DAEMON_COMMANDS::contains);
    if (System.getProperty("thunderlink.log.level") == null) {
      System.setProperty("thunderlink.log.level", daemon ? "INFO" : "WARN");
    }
    System.exit(ThunderlinkCommand.run(args));
  }
}
