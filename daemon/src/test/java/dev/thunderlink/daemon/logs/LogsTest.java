package dev.thunderlink.daemon.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import dev.thunderlink.daemon.cli.LogsCommand;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class LogsTest {
  @TempDir Path home;
  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-26T12:00:00Z"), ZoneOffset.UTC);

  Path logs() throws Exception {
    return Files.createDirectories(home.resolve("logs"));
  }

  static void gz(Path file, String text) throws Exception {
    try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(file))) {
      o.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void sinceAcceptsDurationsAndTimes() {
    assertThat(Since.parse("10m", CLOCK)).isEqualTo(Instant.parse("2026-11-26T11:50:00Z"));
    assertThat(Since.parse("1h30m", CLOCK)).isEqualTo(Instant.parse("2026-11-26T10:30:00Z"));
    assertThat(Since.parse("2d", CLOCK)).isEqualTo(Instant.parse("2026-11-24T12:00:00Z"));
    assertThat(Since.parse("PT45S", CLOCK)).isEqualTo(Instant.parse("2026-11-26T11:59:15Z"));
    assertThat(Since.parse("2026-11-26T09:15", CLOCK)).isEqualTo(Instant.parse("2026-11-26T09:15:00Z"));
    assertThat(Since.parse("2026-11-26 09:15:30", CLOCK)).isEqualTo(Instant.parse("2026-11-26T09:15:30Z"));
    assertThat(Since.parse("2026-11-26T09:15:00+02:00", CLOCK)).isEqualTo(Instant.parse("2026-11-26T07:15:00Z"));
    assertThat(Since.parse("2026-11-25", CLOCK)).isEqualTo(Instant.parse("2026-11-25T00:00:00Z"));
    assertThat(Since.parse("9:05", CLOCK)).isEqualTo(Instant.parse("2026-11-26T09:05:00Z"));
    Clock paris = Clock.fixed(Instant.parse("2026-11-26T12:00:00Z"), ZoneId.of("Europe/Paris"));
    assertThat(Since.parse("09:00", paris)).isEqualTo(Instant.parse("2026-11-26T08:00:00Z"));
  }

  @Test
  void badSinceNamesTheValue() {
    for (String bad : List.of("yesterday", "10x", "", "2026-13-01", "25:00")) {
      assertThatThrownBy(() -> Since.parse(bad, CLOCK))
          .as(bad)
          .hasMessage("--since: " + bad + " (expected: a duration like 10m, 2h, 1d or a time like 2026-11-26T10:00 or 10:00)");
    }
  }

  @Test
  void readsRolledGzipAndCurrentInOrderAndKeepsStackTracesWhole() throws Exception {
    Path d = logs();
    gz(d.resolve("thunderlink.2026-11-25.0.log.gz"), "2026-11-25T23:00:00.000Z INFO  [main] a - first\n");
    gz(d.resolve("thunderlink.2026-11-26.1.log.gz"), "2026-11-26T10:30:00.000Z INFO  [main] a - third\n");
    gz(d.resolve("thunderlink.2026-11-26.0.log.gz"),
        "2026-11-26T09:00:00.000Z WARN  [main] a - second\njava.io.IOException: boom\n\tat x.y(Z.java:1)\n");
    Files.writeString(d.resolve("thunderlink.log"), "2026-11-26T11:55:00.000+00:00 INFO  [main] a - fourth\n");
    Files.writeString(d.resolve("unrelated.txt"), "not a log\n");
    assertThat(LogFiles.inOrder(d)).extracting(p -> p.getFileName().toString())
        .containsExactly(
            "thunderlink.2026-11-25.0.log.gz", "thunderlink.2026-11-26.0.log.gz", "thunderlink.2026-11-26.1.log.gz",
            "thunderlink.log");
    List<String> all = new ArrayList<>();
    LogFiles.print(d, null, 0, all::add);
    assertThat(all).hasSize(6);
    assertThat(all.get(0)).endsWith("first");
    assertThat(all.get(5)).endsWith("fourth");

    List<String> recent = new ArrayList<>();
    LogFiles.print(d, Since.parse("3h", CLOCK), 0, recent::add);
    assertThat(recent)
        .containsExactly(
            "2026-11-26T09:00:00.000Z WARN  [main] a - second", "java.io.IOException: boom", "\tat x.y(Z.java:1)",
            "2026-11-26T10:30:00.000Z INFO  [main] a - third", "2026-11-26T11:55:00.000+00:00 INFO  [main] a - fourth");

    Files.writeString(d.resolve("thunderlink.log"), "2026-11-26T11:56:00.000Z INFO  [main] a - half", StandardOpenOption.APPEND);
    List<String> complete = new ArrayList<>();
    long offset = LogFiles.print(d, null, 0, complete::add);
    assertThat(complete).last().asString().endsWith("fourth");
    assertThat(offset).as("the follower resumes at the half-written line").isEqualTo(
        "2026-11-26T11:55:00.000+00:00 INFO  [main] a - fourth\n".length());

    List<String> last2 = new ArrayList<>();
    LogFiles.print(d, null, 2, last2::add);
    assertThat(last2).hasSize(2).last().asString().endsWith("fourth");
  }

  @Test
  void serviceLogbackConfigWritesFilesThatTheReaderParses() throws Exception {
    Path d = home.resolve("logs");
    LoggerContext ctx = new LoggerContext(); // a context of its own: the test JVM's logging is left alone
    ctx.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    ctx.putProperty("thunderlink.log.dir", d.toString());
    JoranConfigurator c = new JoranConfigurator();
    c.setContext(ctx);
    URL config = getClass().getClassLoader().getResource("logback-service.xml");
    assertThat(config).as("logback-service.xml on the class path").isNotNull();
    c.doConfigure(config);
    ctx.getLogger("dev.thunderlink.test").info("hello from the service config");
    ctx.getLogger("dev.thunderlink.test").error("failed", new IllegalStateException("boom"));
    ctx.stop();
    assertThat(d.resolve("thunderlink.log")).exists();
    List<String> lines = new ArrayList<>();
    LogFiles.print(d, Instant.now().minus(Duration.ofMinutes(5)), 0, lines::add);
    assertThat(lines).as(Files.readString(d.resolve("thunderlink.log"))).isNotEmpty();
    assertThat(lines.get(0)).matches("\\d{4}-\\d{2}-\\d{2}T\\S+ INFO  \\[.*] dev\\.thunderlink\\.test - hello from the service config");
    assertThat(lines).anySatisfy(l -> assertThat(l).isEqualTo("java.lang.IllegalStateException: boom"));
    List<String> none = new ArrayList<>();
    LogFiles.print(d, Instant.now().plus(Duration.ofMinutes(5)), 0, none::add);
    assertThat(none).isEmpty();
  }

  @Test
  void followPrintsAppendedLinesAcrossRollover() throws Exception {
    Path d = logs();
    Path current = d.resolve("thunderlink.log");
    Files.writeString(current, "old line\n");
    LogFollower follower = new LogFollower(current, Duration.ofMillis(20));
    BlockingQueue<String> got = new LinkedBlockingQueue<>();
    long offset = Files.size(current);
    Thread t = new Thread(() -> {
      try {
        follower.follow(offset, got::add);
      } catch (Exception e) {
        got.add("ERROR " + e);
      }
    }, "log-follower-test");
    t.start();
    try {
      Files.writeString(current, "new 1\nnew ", StandardOpenOption.APPEND);
      assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("new 1");
      Files.writeString(current, "2\n", StandardOpenOption.APPEND);
      assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("new 2");
      // logback's rollover: rename the file away, start a new one
      Files.move(current, d.resolve("thunderlink.2026-11-26.0.log"));
      Files.writeString(current, "after rollover\n");
      assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("after rollover");
      assertThat(got).isEmpty();
    } finally {
      follower.stop();
      t.join(5000);
    }
    assertThat(t.isAlive()).isFalse();
  }

  @Test
  void logsCommandWithoutLogsSaysWhereTheyWouldBe() {
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new LogsCommand(CLOCK));
    cl.setErr(new PrintWriter(err, true));
    assertThat(cl.execute("--home", home.toString())).isEqualTo(1);
    assertThat(err.toString()).startsWith("thunderlink: no logs in " + home.resolve("logs"));
  }

  @Test
  void logsCommandFiltersBySince() throws Exception {
    Files.writeString(logs().resolve("thunderlink.log"),
        "2026-11-26T11:00:00.000Z INFO  [main] a - older\n2026-11-26T11:58:00.000Z INFO  [main] a - newer\n");
    StringWriter out = new StringWriter();
    CommandLine cl = new CommandLine(new LogsCommand(CLOCK));
    cl.setOut(new PrintWriter(out, true));
    assertThat(cl.execute("--home", home.toString(), "--since", "10m")).isZero();
    assertThat(out.toString()).isEqualTo("2026-11-26T11:58:00.000Z INFO  [main] a - newer\n");
  }
}
