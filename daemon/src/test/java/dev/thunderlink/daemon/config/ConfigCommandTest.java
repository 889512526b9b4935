package dev.thunderlink.daemon.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thunderlink.daemon.cli.ConfigCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code thunderlink config check|show} as a user runs them, output captured. */
class ConfigCommandTest {
  @TempDir Path home;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  private int run(Map<String, String> env, String... args) {
    CommandLine cl = new CommandLine(new ConfigCommand(env));
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  @Test
  void checkPassesOnAGoodFileAndPrintsWarnings() throws Exception {
    Files.writeString(home.resolve("config.toml"), "[metrics]\nport = 9000\nbogus = 1\n");
    assertThat(run(Map.of(), "check", "--home", home.toString())).isEqualTo(0);
    assertThat(out.toString()).startsWith("config ok: " + home.resolve("config.toml"));
    assertThat(err.toString()).contains("warning: unknown key metrics.bogus ignored");
  }

  @Test
  void checkFailsWithOneLinePerProblemAndExit2() throws Exception {
    Files.writeString(home.resolve("config.toml"), "[tuning.wifi]\nsend_buffer_bytes = -1\n[host]\nport = 0\n");
    assertThat(run(Map.of(), "check", "--home", home.toString())).isEqualTo(2);
    assertThat(err.toString().lines())
        .anySatisfy(l -> assertThat(l).startsWith("thunderlink: tuning.wifi.send_buffer_bytes: -1 (expected: >= 0)"))
        .anySatisfy(l -> assertThat(l).startsWith("thunderlink: host.port: 0 (expected: 1-65535)"));
  }

  @Test
  void checkJsonReportsProblems() throws Exception {
    Files.writeString(home.resolve("config.toml"), "[service]\nshutdown_grace_s = -5\n");
    assertThat(run(Map.of(), "check", "--json", "--home", home.toString())).isEqualTo(2);
    JsonNode n = new ObjectMapper().readTree(out.toString());
    assertThat(n.get("ok").asBoolean()).isFalse();
    assertThat(n.get("problems").get(0).asText()).startsWith("service.shutdown_grace_s: -5 (expected: 0-600)");
  }

  @Test
  void showJsonReportsSourcesOfEveryLayer() throws Exception {
    Files.writeString(home.resolve("config.toml"), "[sync]\nrescan_interval_s = 60\n");
    int exit =
        run(Map.of("THUNDERLINK_METRICS_PORT", "0"), "show", "--json", "--home", home.toString(), "--set", "host.port=7999");
    assertThat(exit).as(err.toString()).isEqualTo(0);
    JsonNode s = new ObjectMapper().readTree(out.toString()).get("settings");
    assertThat(s.at("/host.port/source").asText()).isEqualTo("flag");
    assertThat(s.at("/host.port/value").asInt()).isEqualTo(7999);
    assertThat(s.at("/metrics.port/source").asText()).isEqualTo("environment");
    assertThat(s.at("/sync.rescan_interval_s/source").asText()).isEqualTo("file");
    assertThat(s.at("/service.shutdown_grace_s/source").asText()).isEqualTo("default");
    assertThat(s.at("/service.shutdown_grace_s/value").asInt()).isEqualTo(10);
  }

  @Test
  void malformedSetIsABadUsage() {
    assertThat(run(Map.of(), "show", "--home", home.toString(), "--set", "novalue")).isNotZero();
    assertThat(err.toString()).contains("--set: novalue (expected: KEY=VALUE");
  }
}
