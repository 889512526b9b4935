package dev.thunderlink.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the official client libraries — {@code ollama}, {@code openai}, {@code @anthropic-ai/sdk}
 * and {@code @grpc/grpc-js} — against a workstation front and a host (with the simulator) on
 * loopback: {@code node --test} in {@code src/test/node}. Needs node, and
 * {@code npm ci --prefix inference-proxy/src/test/node} run beforehand (CI does).
 */
class NodeClientLibrariesTest {
  static final Path NODE_DIR = Path.of("src/test/node");
  static final Path PROTO = Path.of("../proto/src/main/protobuf/thunderlink/inference.proto");

  static boolean runs(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Test
  void officialClientLibrariesWorkAgainstThePair() throws Exception {
    assumeTrue(runs("node", "--version"), "node is not installed: skipping the client-library tests");
    if (!Files.isDirectory(NODE_DIR.resolve("node_modules")) && runs("npm", "--version")) {
      // The pinned client libraries (package-lock.json) install themselves, so `mvn verify` alone runs this test.
      Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(NODE_DIR.toFile())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
      if (!npm.waitFor(10, TimeUnit.MINUTES)) {
        npm.destroyForcibly();
      }
    }
    assumeTrue(Files.isDirectory(NODE_DIR.resolve("node_modules")),
        "the npm packages are not installed: run `npm ci --prefix inference-proxy/src/test/node` first");
    SimulatorConfig sim = SimulatorConfig.builder().timeScale(1000).memoryLimitBytes(48_000_000_000L)
        .model(SimulatedModel.of("coder:32b", 20_000_000_000L))
        .model(SimulatedModel.of("big:70b", 40_000_000_000L))
        .model(new SimulatedModel("embed:latest", 300_000_000L, "bert", "137M", "F16", 2048, 8, false))
        .defaultResponseTokens(24).build();
    try (InferenceHost host = InferenceHost.start(InferenceHostConfig.builder().simulator(sim)
        .localFront(FrontConfig.builder().port(0).interactive(false).build()).build())) {
      Server link = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(host.linkService()).build().start();
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", link.getPort()).usePlaintext().build();
      try (InferenceWorkstation ws = InferenceWorkstation.start(FrontConfig.builder().port(0).build(), channel)) {
        ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-reporter=spec")
            .directory(NODE_DIR.toFile()).redirectErrorStream(true);
        pb.environment().put("THUNDERLINK_URL", "http://127.0.0.1:" + ws.address().getPort());
        pb.environment().put("THUNDERLINK_GRPC", "127.0.0.1:" + link.getPort());
        pb.environment().put("THUNDERLINK_PROTO", PROTO.toAbsolutePath().normalize().toString());
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        boolean exited = p.waitFor(Duration.ofMinutes(2).toMillis(), TimeUnit.MILLISECONDS);
        String report = new String(out, StandardCharsets.UTF_8);
        System.out.println(report);
        assertThat(exited).as("node --test finished").isTrue();
        assertThat(p.exitValue()).as("node --test exit code; its report:\n" + report).isZero();
        assertThat(report).containsPattern("(#|ℹ) fail 0");
        for (String suite : List.of("ollama:", "openai:", "anthropic:", "grpc:")) {
          assertThat(report).contains(suite);
        }
      } finally {
        channel.shutdownNow();
        link.shutdownNow();
      }
    }
  }
}
