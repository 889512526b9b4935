package dev.thunderlink.daemon.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.daemon.cli.ServiceCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code thunderlink service ...} through picocli, with a recording runner instead of launchctl/systemctl. */
class ServiceCommandTest {
  @TempDir Path userHome;
  final RecordingCommandRunner runner = new RecordingCommandRunner();
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  int run(String... args) {
    CommandLine cl = new CommandLine(new ServiceCommand(userHome, runner, 501, Map.of()));
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  @Test
  void dryRunInstallPrintsPlistWithDaemonArgumentsAndConfiguredGrace() throws Exception {
    Path home = Files.createDirectories(userHome.resolve("tl-home"));
    Files.writeString(home.resolve("config.toml"), "[service]\nshutdown_grace_s = 20\n");
    int exit =
        run("install", "--platform", "launchd", "--dry-run", "--home", home.toString(), "connect", "--",
            "--path", "tb=169.254.3.7:7420");
    assertThat(exit).as(err.toString()).isZero();
    String o = out.toString();
    assertThat(o).contains("<key>Label</key>").contains("<string>dev.thunderlink.connect</string>");
    assertThat(o).contains("<string>tb=169.254.3.7:7420</string>");
    assertThat(o).contains("<key>ExitTimeOut</key>\n    <integer>25</integer>");
    assertThat(o).contains("launchctl bootstrap gui/501 " + userHome.resolve("Library/LaunchAgents/dev.thunderlink.connect.plist"));
    assertThat(runner.commands).isEmpty();
    assertThat(userHome.resolve("Library")).doesNotExist();
  }

  @Test
  void installRefusesDaemonArgumentsThatWouldFailAtEveryStart() {
    int exit = run("install", "--platform", "systemd", "--dry-run", "serve", "--", "--listen-typo", "x");
    assertThat(exit).isNotZero();
    assertThat(err.toString()).contains("ARGS: --listen-typo x (expected: valid `thunderlink serve` arguments");
    assertThat(runner.commands).isEmpty();
  }

  @Test
  void installRefusesABadConfigBeforeWritingAnything() throws Exception {
    Path home = Files.createDirectories(userHome.resolve("tl-home"));
    Files.writeString(home.resolve("config.toml"), "[service]\nshutdown_grace_s = \"long\"\n");
    int exit = run("install", "--platform", "systemd", "--home", home.toString(), "serve");
    assertThat(exit).isNotZero();
    assertThat(err.toString()).contains("service.shutdown_grace_s: \"long\" (expected: an integer 0-600)");
    assertThat(userHome.resolve(".config")).doesNotExist();
  }

  @Test
  void statusReportsBothRoles() {
    runner.answer("systemctl --user show thunderlink-serve", 0, "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=12\n");
    runner.answer("systemctl --user show thunderlink-connect", 0, "LoadState=not-found\nActiveState=inactive\nSubState=dead\nMainPID=0\n");
    assertThat(run("status", "--platform", "systemd")).isZero();
    assertThat(out.toString())
        .isEqualTo(
            "serve (systemd): not installed, active/running, pid 12\n"
                + "connect (systemd): not installed, not loaded\n");
  }
}
