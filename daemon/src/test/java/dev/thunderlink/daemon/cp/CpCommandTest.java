package dev.thunderlink.daemon.cp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thunderlink.transport.PeerLink;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.bulk.BulkClient;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkServer;
import dev.thunderlink.transport.testing.LinkFixture;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The picocli command over a real host: --json output and one-line usage errors. */
class CpCommandTest {
  @TempDir Path tmp;

  @Test
  void jsonSummaryNamesBytesFilesSecondsModeAndThroughput() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root"));
    try (LinkFixture fx = new LinkFixture(TransportFactory.auto().kind(), tmp)) {
      BulkServer bulk = new BulkServer(BulkConfig.defaults(List.of(root)), fx.hostPeers);
      fx.startHost(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)), b -> b.addService(bulk.controlService()).bulk(bulk));
      fx.pair();
      PeerLink link = fx.connect();
      BulkClient client = BulkClient.forLink(link).identity(fx.wsId).peers(fx.wsPeers).transport(fx.transport, fx.workers).build();
      CpLink cpLink = home -> CpLink.await(link, client, Duration.ofSeconds(10), () -> { });
      Path f = Files.writeString(tmp.resolve("notes.txt"), "some notes\n".repeat(7000));
      StringWriter out = new StringWriter();
      CommandLine cl = new CommandLine(new CpCommand(cpLink)).setOut(new PrintWriter(out));
      int code = cl.execute("--json", f.toString(), "host:" + root.resolve("notes.txt"));
      assertThat(code).isZero();
      JsonNode j = new ObjectMapper().readTree(out.toString());
      assertThat(j.get("direction").asText()).isEqualTo("push");
      assertThat(j.get("files").asLong()).isEqualTo(1);
      assertThat(j.get("copied").asLong()).isEqualTo(1);
      assertThat(j.get("bytes").asLong()).isEqualTo(77_000);
      assertThat(j.get("seconds").asDouble()).isPositive();
      assertThat(j.has("throughput_mib_s")).isTrue();
      // bulk.digest = auto: XXH3-128 on a plaintext path, SHA-256 under TLS; the summary says which
      assertThat(j.get("digest").asText()).isEqualTo(j.get("encrypted").asBoolean() ? "SHA-256" : "XXH3-128");
      assertThat(j.get("entries").get(0).get("mode").asText()).isEqualTo("lz4");
      assertThat(Files.readString(root.resolve("notes.txt"))).isEqualTo("some notes\n".repeat(7000));
    }
  }

  /** The summary's rate takes the unit that fits: a small tree's read "0.0 MiB/s". */
  @Test
  void theSummaryLineGivesTheRateInAUnitThatFits() throws Exception {
    CopyReport small = new CopyReport("pull", 889, 889, 0, 0, 1, 6144, 1.2, 6144 / 1.2 / (1 << 20), false, "XXH3-128", 1, true,
        List.of());
    StringWriter out = new StringWriter();
    CpCommand.print(new PrintWriter(out), small, false);
    assertThat(out.toString().trim()).isEqualTo("received 889 file(s) and link(s), 1 director(ies), 6.0 KiB in 1.20 s (5.0 KiB/s),"
        + " 0 skipped as identical, 0 failed, plaintext on Thunderbolt, XXH3-128 verified");
  }

  @Test
  void badOperandsFailWithOneLineBeforeAnyConnection() {
    CpLink never = home -> {
      throw new AssertionError("must not connect");
    };
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new CpCommand(never)).setErr(new PrintWriter(err));
    cl.setExecutionExceptionHandler((ex, c, r) -> {
      c.getErr().println("thunderlink: " + ex.getMessage());
      return 2;
    });
    assertThat(cl.execute("a.txt", "b.txt")).isEqualTo(2);
    assertThat(err.toString().trim())
        .isEqualTo("thunderlink: cp: no operand names the host (expected: LOCAL... host:PATH or host:PATH LOCAL)");
  }
}
