package dev.thunderlink.daemon;

import dev.thunderlink.daemon.cli.ThunderlinkCommand;
import java.util.Set;

/** Entry point of the {@code thunderlink} command: sets up logging and hands off to picocli. */
public final class Main {
  private static final Set<String> DAEMON_COMMANDS = Set.of("serve", "connect", "demo");

  private Main() {}

  public static void main(String[] args) {
    boolean daemon = args.length > 0 && java.util.Arrays.stream(args).anyMatch(DAEMON_COMMANDS::contains);
    systemDefaults(daemon);
    System.exit(ThunderlinkCommand.run(args));
  }

  /**
   * The system properties every command starts with, each only where the user did not set it
   * ({@code -D...} wins). Before anything touches Netty or logback.
   *
   * <ul>
   *   <li>{@code thunderlink.log.level}: INFO for the daemons, WARN for the short commands.
   *   <li>{@code io.netty.jfr.enabled=false}: Netty 4.2 registers its buffer-allocator events
   *       with the flight recorder when its first buffer is made, and the recorder generates an
   *       event handler class for each at run time (no class archive covers them): ~0.1 s of CPU
   *       and ~0.2 s of wall clock in every {@code cp}, whose start-up is most of a small copy.
   *       Nothing records those events unless a recording asks for them.
   * </ul>
   */
  static void systemDefaults(boolean daemon) {
    if (System.getProperty("thunderlink.log.level") == null) {
      System.setProperty("thunderlink.log.level", daemon ? "INFO" : "WARN");
    }
    if (System.getProperty("io.netty.jfr.enabled") == null) {
      System.setProperty("io.netty.jfr.enabled", "false");
    }
  }
}
