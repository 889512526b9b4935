package dev.thunderlink.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
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
    List<String> all = List.of("create", "list", "status", "conflicts", "pause", "resume", "terminate", "flush");
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
