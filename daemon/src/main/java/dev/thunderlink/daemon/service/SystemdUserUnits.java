package dev.thunderlink.daemon.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** systemd user units in {@code ~/.config/systemd/user}, managed with {@code systemctl --user}. */
final class SystemdUserUnits extends ServiceManager {
  SystemdUserUnits(Path userHome, CommandRunner runner) {
    super(userHome, runner);
  }

  @Override
  public String name() {
    return "systemd";
  }

  @Override
  public Path definitionFile(String role) {
    return userHome.resolve(".config/systemd/user").resolve(SystemdUnit.unitName(role));
  }

  @Override
  public String render(ServiceSpec spec) {
    return SystemdUnit.render(spec);
  }

  @Override
  List<Path> directories(ServiceSpec spec) {
    return List.of(definitionFile(spec.role()).getParent(), spec.home().resolve("logs"));
  }

  @Override
  List<List<String>> loadCommands(String role) {
    String unit = SystemdUnit.unitName(role);
    // restart rather than `enable --now`: --now does not restart a running unit, so a
    // re-install with new arguments would otherwise keep the old process.
    return List.of(
        List.of("systemctl", "--user", "daemon-reload"),
        List.of("systemctl", "--user", "enable", unit),
        List.of("systemctl", "--user", "restart", unit));
  }

  @Override
  boolean firstLoadCommandMayFail() {
    return false;
  }

  @Override
  List<List<String>> unloadCommands(String role) {
    return List.of(List.of("systemctl", "--user", "disable", "--now", SystemdUnit.unitName(role)));
  }

  @Override
  void afterRemove() throws IOException, InterruptedException {
    runner.run(List.of("systemctl", "--user", "daemon-reload"));
  }

  @Override
  public ServiceStatus status(String role) throws IOException, InterruptedException {
    Path file = definitionFile(role);
    CommandRunner.Result r =
        runner.run(
            List.of("systemctl", "--user", "show", SystemdUnit.unitName(role), "--property=LoadState,ActiveState,SubState,MainPID"));
    Map<String, String> props = new HashMap<>();
    for (String line : r.output().split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        props.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
      }
    }
    boolean loaded = r.ok() && "loaded".equals(props.get("LoadState"));
    String state = props.getOrDefault("ActiveState", "unknown") + "/" + props.getOrDefault("SubState", "unknown");
    long pid = 0;
    try {
      pid = Long.parseLong(props.getOrDefault("MainPID", "0"));
    } catch (NumberFormatException e) {
      pid = 0;
    }
    return new ServiceStatus(role, name(), file, Files.exists(file), loaded, loaded ? state : "not loaded", pid);
  }
}
