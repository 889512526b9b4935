package dev.thunderlink.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.thunderlink.transport.FreePorts;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code token-compare.sh}'s measurement runs end to end on a small scale (real sockets, the
 * simulator, the pair), so the script does not rot; the figures are not looked at.
 */
class TokenCompareTest {

  @Test
  void measuresAfterTheExtraWarmUpRequestsItWasAskedFor(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("token-compare.md");
    int simPort = FreePorts.pick(InetAddress.getLoopbackAddress());

    TokenCompare.main(new String[] {"--simulator-port", String.valueOf(simPort), "--runs", "3",
        "--tokens", "2", "--warm", "4", "--out", out.toString()});

    String table = Files.readString(out);
    assertThat(table).contains("3 requests per path").contains("after 34 warm-up requests per path");
    assertThat(table).contains("| straight to the simulator (baseline) |").contains("| thunderlink pair |");
  }
}
