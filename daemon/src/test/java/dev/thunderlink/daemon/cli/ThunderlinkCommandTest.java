package dev.thunderlink.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ThunderlinkCommandTest {
  private static final List<String> ALL =
      List.of("serve", "connect", "status", "ping", "pair", "peers", "unpair", "doctor", "demo", "bench", "sync",
          "models", "cp", "config", "service", "logs", "help");

  @Test
  void argumentsStartingWithASubcommandBuildOnlyThatOne() {
    assertThat(ThunderlinkCommand.commandLine("cp", "--home", "h", "a.txt", "host:/tmp/").getSubcommands()).containsOnlyKeys("cp");
    assertThat(ThunderlinkCommand.commandLine("sync", "list").getSubcommands()).containsOnlyKeys("sync");
    assertThat(ThunderlinkCommand.commandLine("sync", "flush", "--home", "h", "s").getSubcommands().get("sync").getSubcommands())
        .containsOnlyKeys("flush");
  }

  @Test
  void syncHelpAndUnknownWordsGetEverySyncCommandInTheUsagesOrder() {
    List<String> all = List.of("create", "list", "status", "conflicts", "pause", "resume", "terminate", "flush", "events");
    for (String[] args : List.of(new String[] {"sync"}, new String[] {"sync", "--help"}, new String[] {"help", "sync"},
        new String[] {"--help"}, new String[] {"sync", "nosuch"})) {
      CommandLine sync = ThunderlinkCommand.commandLine(args).getSubcommands().get("sync");
      assertThat(sync.getSubcommands().keySet()).as(String.join(" ", args)).containsExactlyElementsOf(all);
    }
    StringWriter out = new StringWriter();
    CommandLine cl = ThunderlinkCommand.commandLine("sync", "--help").setOut(new PrintWriter(out, true));
    assertThat(cl.execute("sync", "--help")).isZero();
    assertThat(out.toString()).contains("Usage: thunderlink sync [-hV] [COMMAND]").contains("  create ").contains("  flush ");
  }

  @Test
  void helpTopLevelOptionsAndUnknownWordsGetEverySubcommandInTheUsagesOrder() {
    for (String[] args : List.of(new String[] {}, new String[] {"--help"}, new String[] {"-V"}, new String[] {"help", "cp"},
        new String[] {"nosuch"}, new String[] {"--home", "cp"})) {
      assertThat(ThunderlinkCommand.commandLine(args).getSubcommands().keySet()).as(String.join(" ", args)).containsExactlyElementsOf(ALL);
    }
  }

  @Test
  void helpForOneCommandReadsAsBefore() {
    for (String[] args : List.of(new String[] {"help", "cp"}, new String[] {"cp", "--help"})) {
      StringWriter out = new StringWriter();
      CommandLine cl = ThunderlinkCommand.commandLine(args).setOut(new PrintWriter(out, true));
      assertThat(cl.execute(args)).isZero();
      assertThat(out.toString()).as(String.join(" ", args)).contains("Usage: thunderlink cp ").contains("Copy files and directories");
    }
    StringWriter out = new StringWriter();
    CommandLine cl = ThunderlinkCommand.commandLine("--help").setOut(new PrintWriter(out, true));
    assertThat(cl.execute("--help")).isZero();
    assertThat(out.toString()).contains("Commands:").contains("  cp ").contains("  sync ").contains("  logs ");
  }

  @Test
  void anUnknownCommandIsABadUsage() {
    StringWriter err = new StringWriter();
    CommandLine cl = ThunderlinkCommand.commandLine("nosuch").setErr(new PrintWriter(err, true));
    assertThat(cl.execute("nosuch")).isEqualTo(2);
    assertThat(err.toString()).contains("nosuch");
  }

  /** Exit codes as the README gives them: 2 for what the user typed wrong, 1 for what failed. */
  @Test
  void aMalformedPairingCodeIsABadUsageAndCpWithoutAPairedHostAFailure(@org.junit.jupiter.api.io.TempDir java.nio.file.Path home)
      throws Exception {
    String[] pair = {"pair", "--home", home.toString(), "127.0.0.1:9", "BAD"};
    StringWriter err = new StringWriter();
    CommandLine cl = ThunderlinkCommand.commandLine(pair).setErr(new PrintWriter(err, true));
    assertThat(ThunderlinkCommand.run(cl, pair)).isEqualTo(2);
    assertThat(err.toString().trim()).isEqualTo("thunderlink: pairing code: BAD (expected: 8 letters or digits, like 7KQ2-M9XD)");

    java.nio.file.Path file = java.nio.file.Files.writeString(home.resolve("f.txt"), "to copy");
    String[] cp = {"cp", "--home", home.toString(), "--standalone", file.toString(), "host:/tmp/"};
    err = new StringWriter();
    cl = ThunderlinkCommand.commandLine(cp).setErr(new PrintWriter(err, true));
    assertThat(ThunderlinkCommand.run(cl, cp)).isEqualTo(1);
    assertThat(err.toString()).contains("cp: no paired host with a known address in " + home)
        .contains("run `thunderlink pair HOST CODE` first");
  }

  @Test
  void syncCreateRefusesABadNameOrARelativeRemoteOrABadSafetyStopBeforeCallingTheDaemon() {
    Map<String, String[]> cases = Map.of(
        "thunderlink: --mass-deletion-percent: 0 (expected: 1 to 100; 100 halts only a deletion of everything)",
        new String[] {"sync", "create", "ok", "--home", "/nonexistent-home", "--local", "/tmp", "--remote", "/srv/x",
            "--mass-deletion-percent", "0"},
        "thunderlink: --mass-deletion-min-entries: -3 (expected: 0 or more)",
        new String[] {"sync", "create", "ok", "--home", "/nonexistent-home", "--local", "/tmp", "--remote", "/srv/x",
            "--mass-deletion-min-entries", "-3"},
        "thunderlink: name: bad name (expected: 1-64 of [A-Za-z0-9._-], starting alphanumeric)",
        new String[] {"sync", "create", "bad name", "--home", "/nonexistent-home", "--local", "/tmp", "--remote", "/srv/x"},
        "thunderlink: --remote: srv/x (expected: an absolute path on the host, like /Users/me/project, or ~/project in its user's home)",
        new String[] {"sync", "create", "ok", "--home", "/nonexistent-home", "--local", "/tmp", "--remote", "srv/x"});
    cases.forEach((message, args) -> {
      StringWriter err = new StringWriter();
      CommandLine cl = ThunderlinkCommand.commandLine(args).setErr(new PrintWriter(err, true));
      assertThat(ThunderlinkCommand.run(cl, args)).as(String.join(" ", args)).isEqualTo(2);
      assertThat(err.toString().trim()).isEqualTo(message);
    });
  }

  @Test
  void syncEventsRefusesBadArgumentsBeforeCallingTheDaemon() {
    for (String[] args : List.of(
        new String[] {"sync", "events", "--home", "/nonexistent-home", "--kind", "bogus"},
        new String[] {"sync", "events", "--home", "/nonexistent-home", "--count", "0"},
        new String[] {"sync", "events", "--home", "/nonexistent-home", "--duration", "0"})) {
      StringWriter err = new StringWriter();
      CommandLine cl = ThunderlinkCommand.commandLine(args).setErr(new PrintWriter(err, true));
      assertThat(ThunderlinkCommand.run(cl, args)).as(String.join(" ", args)).isEqualTo(2);
      assertThat(err.toString()).as(String.join(" ", args)).doesNotContain("daemon");
    }
    String[] bogus = {"sync", "events", "--kind", "applied", "--kind", "bogus"};
    StringWriter err = new StringWriter();
    CommandLine cl = ThunderlinkCommand.commandLine(bogus).setErr(new PrintWriter(err, true));
    assertThat(ThunderlinkCommand.run(cl, bogus)).isEqualTo(2);
    assertThat(err.toString().trim())
        .isEqualTo("thunderlink: --kind: bogus (expected one of: applied, conflict, error, paused, halted, dropped, changed, terminated)");
  }

  @Test
  void syncEventsLinesSayWhatHappenedWhere() {
    dev.thunderlink.proto.synccontrol.SyncEvent applied = dev.thunderlink.proto.synccontrol.SyncEvent.newBuilder()
        .setAtUnixMillis(0).setKind("applied").setPath("src/Main.java").setDetail("book -> mini")
        .setStatus(dev.thunderlink.proto.synccontrol.SyncSessionStatus.newBuilder().setName("proj")).build();
    assertThat(SyncCommand.Events.line(applied)).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  proj  applied  src/Main.java  book -> mini");
    dev.thunderlink.proto.synccontrol.SyncEvent changed = dev.thunderlink.proto.synccontrol.SyncEvent.newBuilder()
        .setAtUnixMillis(0).setKind("changed")
        .setStatus(dev.thunderlink.proto.synccontrol.SyncSessionStatus.newBuilder().setName("proj").setState("HALTED")
            .setLocalEntries(3).setRemoteEntries(2).setFilesTransferred(1).setBytesSent(14).setConflicts(1)
            .putErrors("a.txt", "permission denied").setHaltReason("most of the tree deleted on book"))
        .build();
    assertThat(SyncCommand.Events.line(changed)).endsWith(
        "  proj  changed  HALTED: 3 local / 2 remote entries, 1 files sent (14 bytes), 1 conflicts, 1 problems;"
            + " most of the tree deleted on book");
    dev.thunderlink.proto.synccontrol.SyncEvent applying = changed.toBuilder().setStatus(changed.getStatus().toBuilder()
        .clearErrors().setHaltReason("").setState("RUNNING").setProgress(dev.thunderlink.proto.synccontrol.SyncProgress
            .newBuilder().setStartedUnixMillis(1).setActive(true).setOps(10).setOpsDone(4).setBytes(2 << 20)
            .setBytesDone(1 << 20).setBytesPerSecond(1 << 20).setEtaSeconds(1))).build();
    assertThat(SyncCommand.Events.line(applying)).endsWith("1 conflicts; applying: 4 of 10 operations, 1.0 of 2.0 MiB,"
        + " 1.0 MiB/s, about 1.0 s left");
  }

  /**
   * picocli wraps a description line longer than the help's width where it overflows, so a
   * paragraph hard-wrapped a little too wide prints as long lines each followed by a one- or
   * two-word line, and an example command breaks where a reader would copy it. A description of
   * one line may wrap; the lines of a longer one each fit the width.
   */
  @Test
  void everyCommandsDescriptionLinesFitTheHelpWidth() {
    List<String> tooWide = new java.util.ArrayList<>();
    collectTooWide(ThunderlinkCommand.commandLine("--help"), tooWide);
    assertThat(tooWide).isEmpty();
  }

  private static void collectTooWide(CommandLine cl, List<String> tooWide) {
    int width = cl.getUsageHelpWidth();
    String[] lines = cl.getCommandSpec().usageMessage().description();
    for (String line : lines) {
      if (lines.length > 1 && line.length() > width) {
        tooWide.add(cl.getCommandSpec().qualifiedName() + ": " + line);
      }
    }
    for (CommandLine sub : cl.getSubcommands().values()) {
      collectTooWide(sub, tooWide);
    }
  }
}
