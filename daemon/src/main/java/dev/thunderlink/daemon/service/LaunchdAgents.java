package dev.thunderlink.daemon.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** launchd agents in {@code ~/Library/LaunchAgents}, loaded into the user's {@code gui/<uid>} domain. */
final class LaunchdAgents extends ServiceManager {
  private static final Pattern STATE = Pattern.compile("(?m)^\\s*state = (.+)$");
  private static final Pattern PID = Pattern.compile("(?m)^\\s*pid = (\\d+)$");
  private final long uid;

  LaunchdAgents(Path userHome, CommandRunner runner, long uid) {
    super(userHome, runner);
    this.uid = uid;
  }

  @Override
  public String name() {
    return "launchd";
  }

  @Override
  public Path definitionFile(String role) {
    return userHome.resolve("Library/LaunchAgents").resolve(LaunchdPlist.label(role) + ".plist");
  }

  Path logDir() {
    return userHome.resolve("Library/Logs/thunderlink");
  }

  @Override
  public String render(ServiceSpec spec) {
    return LaunchdPlist.render(spec, logDir());
  }

  @Override
  List<Path> directories(ServiceSpec spec) {
    return List.of(definitionFile(spec.role()).getParent(), logDir(), spec.home().resolve("logs"));
  }

  private String domain() {
    return "gui/" + uid;
  }

  @Override
  List<List<String>> loadCommands(String role) {
    // bootout first so a re-install replaces a loaded agent instead of failing with "already loaded".
    return List.of(
        List.of("launchctl", "bootout", domain() + "/" + LaunchdPlist.label(role)),
        List.of("launchctl", "bootstrap", domain(), definitionFile(role).toString()));
  }

  @Override
  boolean firstLoadCommandMayFail() {
    return true;
  }

  @Override
  List<List<String>> unloadCommands(String role) {
    return List.of(List.of("launchctl", "bootout", domain() + "/" + LaunchdPlist.label(role)));
  }

  @Override
  public ServiceStatus status(String role) throws IOException, InterruptedException {
    Path file = definitionFile(role);
    CommandRunner.Result r = runner.run(List.of("launchctl", "print", domain() + "/" + LaunchdPlist.label(role)));
    if (!r.ok()) {
      return new ServiceStatus(role, name(), file, Files.exists(file), false, "not loaded", 0);
    }
    Matcher s = STATE.matcher(r.output());
    Matcher p = PID.matcher(r.output());
    return new ServiceStatus(
        role, name(), file, Files.exists(file), true, s.find() ? s.group(1).strip() : "loaded", p.find() ? Long.parseLong(p.group(1)) : 0);
  }
}
