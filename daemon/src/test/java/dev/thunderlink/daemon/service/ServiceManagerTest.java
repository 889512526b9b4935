package dev.thunderlink.daemon.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceManagerTest {

  /**
   * The launcher ({@code ./thunderlink}) starts serve, connect and demo with the same JVM options
   * as the service definitions: a change to one list without the other would make a daemon
   * started by hand behave unlike the launchd/systemd one.
   */
  @Test
  void theLauncherStartsDaemonsWithTheServiceDefinitionsOptions() throws Exception {
    Path launcher = Path.of("..", "thunderlink");
    assumeTrue(Files.isRegularFile(launcher), "run from the daemon module of the repository");
    String text = Files.readString(launcher);
    String marker = "${THUNDERLINK_DAEMON_JVM_OPTS-";
    int from = text.indexOf(marker);
    assertThat(from).as("the launcher's default daemon options").isPositive();
    int to = text.indexOf("}\"", from);
    List<String> launcherOptions = List.of(text.substring(from + marker.length(), to).split(" "));
    assertThat(launcherOptions).isEqualTo(ServiceSpec.DAEMON_JVM_OPTIONS);
  }
  @TempDir Path userHome;
  final RecordingCommandRunner runner = new RecordingCommandRunner();
  final StringWriter out = new StringWriter();
  static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

  ServiceSpec spec(String role, List<String> args) {
    return new ServiceSpec(role, JAVA, userHome.resolve("opt/thunderlink.jar"), null, args, userHome.resolve(".thunderlink"), 10);
  }

  @Test
  void plistIsAValidPropertyListCheckedKeyByKey() throws Exception {
    ServiceManager m = ServiceManager.of("launchd", userHome, runner, 501);
    ServiceSpec s = spec("connect", List.of("--path", "tb=169.254.3.7:7420"));
    @SuppressWarnings("unchecked")
    Map<String, Object> d = (Map<String, Object>) PlistParser.parse(m.render(s));
    assertThat(d)
        .containsOnlyKeys(
            "Label", "ProgramArguments", "EnvironmentVariables", "WorkingDirectory", "RunAtLoad", "KeepAlive",
            "ProcessType", "ExitTimeOut", "ThrottleInterval", "StandardOutPath", "StandardErrorPath");
    assertThat(d.get("Label")).isEqualTo("dev.thunderlink.connect");
    assertThat(d.get("ProgramArguments"))
        .isEqualTo(
            List.of(
                JAVA.toString(),
                "-XX:+UseG1GC",
                "-XX:G1PeriodicGCInterval=30000",
                "-XX:MinHeapFreeRatio=10",
                "-XX:MaxHeapFreeRatio=30",
                "-XX:CompileThresholdScaling=0.1",
                "-XX:Tier4InvocationThreshold=50000",
                "-XX:Tier4MinInvocationThreshold=6000",
                "-XX:Tier4CompileThreshold=150000",
                "-XX:Tier4BackEdgeThreshold=400000",
                "-XX:CompileCommand=quiet",
                "-XX:CompileCommand=CompileThresholdScaling,dev.thunderlink.inference.*::*,0.1",
                "-XX:CompileCommand=CompileThresholdScaling,com.fasterxml.jackson.*::*,0.1",
                "-XX:CompileCommand=CompileThresholdScaling,io.netty.handler.codec.http.*::*,0.1",
                "-Dlogback.configurationFile=logback-service.xml",
                "-Dthunderlink.log.dir=" + userHome.resolve(".thunderlink/logs"),
                "-jar",
                userHome.resolve("opt/thunderlink.jar").toString(),
                "connect",
                "--path",
                "tb=169.254.3.7:7420"));
    assertThat(Path.of((String) ((List<?>) d.get("ProgramArguments")).get(0))).isAbsolute();
    assertThat(d.get("EnvironmentVariables"))
        .isEqualTo(Map.of("THUNDERLINK_HOME", userHome.resolve(".thunderlink").toString(), "THUNDERLINK_SERVICE", "1"));
    assertThat(d.get("RunAtLoad")).isEqualTo(true);
    assertThat(d.get("KeepAlive")).isEqualTo(true);
    assertThat(d.get("ProcessType")).isEqualTo("Interactive");
    assertThat(d.get("ExitTimeOut")).isEqualTo(15L);
    assertThat(d.get("StandardOutPath")).isEqualTo(userHome.resolve("Library/Logs/thunderlink/connect.out.log").toString());
    assertThat(d.get("StandardErrorPath")).isEqualTo(userHome.resolve("Library/Logs/thunderlink/connect.err.log").toString());
    assertThat(d.get("WorkingDirectory")).isEqualTo(userHome.resolve(".thunderlink").toString());
  }

  @Test
  void plistEscapesMarkupInArguments() throws Exception {
    List<String> nasty = List.of("--path", "a&b=<1>\"'", "]]>");
    ServiceSpec s = spec("serve", nasty);
    @SuppressWarnings("unchecked")
    Map<String, Object> d = (Map<String, Object>) PlistParser.parse(ServiceManager.of("launchd", userHome, runner, 501).render(s));
    List<?> args = (List<?>) d.get("ProgramArguments");
    assertThat(args.subList(args.size() - 3, args.size())).isEqualTo(nasty);
  }

  @Test
  void launchdInstallWritesPlistAndBootstrapsIntoGuiDomain() throws Exception {
    runner.answer("launchctl bootout", 3, "Boot-out failed: 3: No such process");
    ServiceManager m = ServiceManager.of("launchd", userHome, runner, 501);
    ServiceSpec s = spec("serve", List.of());
    m.install(s, false, new PrintWriter(out));
    Path plist = userHome.resolve("Library/LaunchAgents/dev.thunderlink.serve.plist");
    assertThat(plist).exists();
    assertThat(Files.readString(plist)).isEqualTo(m.render(s));
    assertThat(userHome.resolve("Library/Logs/thunderlink")).isDirectory();
    assertThat(runner.commands)
        .containsExactly(
            List.of("launchctl", "bootout", "gui/501/dev.thunderlink.serve"),
            List.of("launchctl", "bootstrap", "gui/501", plist.toString()));
    assertThat(out.toString()).contains("wrote " + plist).contains("installed and started thunderlink serve (host daemon) with launchd");
  }

  @Test
  void launchdBootstrapFailureIsReportedWithItsOutput() {
    runner.answer("launchctl bootstrap", 5, "Bootstrap failed: 5: Input/output error");
    ServiceManager m = ServiceManager.of("launchd", userHome, runner, 501);
    assertThatThrownBy(() -> m.install(spec("serve", List.of()), false, new PrintWriter(out)))
        .hasMessage(
            "launchctl bootstrap gui/501 " + userHome.resolve("Library/LaunchAgents/dev.thunderlink.serve.plist")
                + " failed (exit 5): Bootstrap failed: 5: Input/output error");
  }

  @Test
  void dryRunPrintsFileAndCommandsAndTouchesNothing() throws Exception {
    ServiceManager m = ServiceManager.of("launchd", userHome, runner, 501);
    ServiceSpec s = spec("connect", List.of());
    m.install(s, true, new PrintWriter(out));
    Path plist = userHome.resolve("Library/LaunchAgents/dev.thunderlink.connect.plist");
    assertThat(plist).doesNotExist();
    assertThat(runner.commands).isEmpty();
    assertThat(out.toString())
        .startsWith("# launchd definition: " + plist + " (dry run: not written)\n" + m.render(s))
        .endsWith(
            "# commands (dry run: not run):\n"
                + "launchctl bootout gui/501/dev.thunderlink.connect\n"
                + "launchctl bootstrap gui/501 " + plist + "\n");
  }

  @Test
  void launchdUninstallBootsOutAndRemoves() throws Exception {
    ServiceManager m = ServiceManager.of("launchd", userHome, runner, 501);
    m.install(spec("serve", List.of()), false, new PrintWriter(out));
    runner.commands.clear();
    m.uninstall("serve", false, new PrintWriter(out));
    assertThat(userHome.resolve("Library/LaunchAgents/dev.thunderlink.serve.plist")).doesNotExist();
    assertThat(runner.commands).containsExactly(List.of("launchctl", "bootout", "gui/501/dev.thunderlink.serve"));
    m.uninstall("serve", false, new PrintWriter(out));
    assertThat(out.toString()).contains("thunderlink serve was not installed");
  }

  @Test
  void launchdStatusParsesLaunchctlPrint() throws Exception {
    ServiceManager m = ServiceManager.of("launchd", userHome, runner, 501);
    runner.answer(
        "launchctl print gui/501/dev.thunderlink.serve",
        0,
        "gui/501/dev.thunderlink.serve = {\n\tactive count = 1\n\tpath = /x.plist\n\tstate = running\n\n\tprogram = /usr/bin/java\n\tpid = 4242\n}\n");
    ServiceStatus s = m.status("serve");
    assertThat(s.loaded()).isTrue();
    assertThat(s.state()).isEqualTo("running");
    assertThat(s.pid()).isEqualTo(4242);
    runner.answer("launchctl print gui/501/dev.thunderlink.connect", 113, "Could not find service");
    ServiceStatus c = m.status("connect");
    assertThat(c.loaded()).isFalse();
    assertThat(c.toText()).isEqualTo("connect (launchd): not installed, not loaded");
  }

  @Test
  void systemdInstallWritesUnitAndEnablesAndRestarts() throws Exception {
    ServiceManager m = ServiceManager.of("systemd", userHome, runner, 1000);
    ServiceSpec s = spec("serve", List.of("--listen", "0.0.0.0:7420"));
    m.install(s, false, new PrintWriter(out));
    Path unit = userHome.resolve(".config/systemd/user/thunderlink-serve.service");
    assertThat(Files.readString(unit)).isEqualTo(SystemdUnit.render(s));
    assertThat(runner.commands)
        .containsExactly(
            List.of("systemctl", "--user", "daemon-reload"),
            List.of("systemctl", "--user", "enable", "thunderlink-serve.service"),
            List.of("systemctl", "--user", "restart", "thunderlink-serve.service"));
    runner.commands.clear();
    m.uninstall("serve", false, new PrintWriter(out));
    assertThat(unit).doesNotExist();
    assertThat(runner.commands)
        .containsExactly(
            List.of("systemctl", "--user", "disable", "--now", "thunderlink-serve.service"),
            List.of("systemctl", "--user", "daemon-reload"));
  }

  @Test
  void systemdStatusParsesShow() throws Exception {
    runner.answer("systemctl --user show", 0, "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=777\n");
    ServiceStatus s = ServiceManager.of("systemd", userHome, runner, 1000).status("connect");
    assertThat(s.loaded()).isTrue();
    assertThat(s.state()).isEqualTo("active/running");
    assertThat(s.pid()).isEqualTo(777);
  }

  @Test
  void systemdUnitHasTheExpectedDirectivesAndQuoting() {
    ServiceSpec s = spec("connect", List.of("--path", "wifi=192.168.1.20", "100%", "$HOME", "a \"b\""));
    String unit = SystemdUnit.render(s);
    assertThat(unit)
        .contains("Environment=\"THUNDERLINK_HOME=" + userHome.resolve(".thunderlink") + "\"\n")
        .contains("Restart=always\n")
        .contains("TimeoutStopSec=15\n")
        .contains("WantedBy=default.target\n")
        .contains("ExecStart=\"" + JAVA + "\" ")
        .contains(" \"100%%\" \"$$HOME\" \"a \\\"b\\\"\"\n");
  }

  @Test
  void systemdUnitPassesSystemdAnalyzeVerify() throws Exception {
    Path tool = Path.of("/usr/bin/systemd-analyze");
    assumeTrue(Files.isExecutable(tool), "systemd-analyze is not installed here (apt-get install systemd): unit not verified");
    Path jar = Files.createDirectories(userHome.resolve("opt")).resolve("thunderlink.jar");
    Files.writeString(jar, "placeholder: verify only checks the unit, not the jar");
    Files.createDirectories(userHome.resolve(".thunderlink"));
    ServiceSpec s = spec("serve", List.of("--listen", "0.0.0.0:7420"));
    Path dir = Files.createDirectories(userHome.resolve("units"));
    Path unit = dir.resolve(SystemdUnit.unitName("serve"));
    Files.writeString(unit, SystemdUnit.render(s));
    Process p = new ProcessBuilder(tool.toString(), "verify", unit.toString()).redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).as("systemd-analyze verify output").doesNotContain(unit.getFileName().toString());
  }

  @Test
  void unknownPlatformAndRoleAreRefused() {
    assertThatThrownBy(() -> ServiceManager.of("upstart", userHome, runner, 1))
        .hasMessageStartingWith("--platform: upstart (expected: launchd (macOS) or systemd (Linux)");
    assertThatThrownBy(() -> spec("daemon", List.of())).hasMessage("role: daemon (expected: serve or connect)");
    assertThatThrownBy(() -> new ServiceSpec("serve", Path.of("java"), Path.of("/x.jar"), null, List.of(), userHome, 10))
        .hasMessage("java: java (expected: an absolute path)");
  }
}
