package dev.thunderlink.daemon.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.daemon.config.ConfigException;
import dev.thunderlink.daemon.config.ConfigLoader;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DaemonServicesTest {
  @TempDir Path home;

  static int freePort() throws IOException {
    return dev.thunderlink.transport.FreePorts.pick(InetAddress.getLoopbackAddress());
  }

  static HttpResponse<String> scrape(int port) throws Exception {
    return HttpClient.newHttpClient()
        .send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void startsMetricsFromConfigAndClosesThemLastOnShutdown() throws Exception {
    int port = freePort();
    Files.writeString(home.resolve("config.toml"), "[service]\nshutdown_grace_s = 2\n");
    List<String> order = new ArrayList<>();
    DaemonServices s = DaemonServices.start(ConfigLoader.load(home, Map.of(), Map.of("metrics.port", port)));
    assertThat(s.metricsPort()).contains(port);
    assertThat(s.config().service().shutdownGraceSeconds()).isEqualTo(2);
    s.metrics().conflict();
    s.shutdown().register(ShutdownCoordinator.Participant.of(
        "link",
        () -> order.add("link stop"),
        () -> CompletableFuture.runAsync(() -> {
          try {
            // a scrape while the link drains still works: metrics close last
            order.add("scrape during drain: " + scrape(port).statusCode());
          } catch (Exception e) {
            order.add("scrape failed: " + e);
          }
        }),
        List::of,
        () -> order.add("link close")));
    assertThat(scrape(port).body()).contains("thunderlink_sync_conflicts_total 1.0");
    s.close();
    assertThat(order).containsExactly("link stop", "scrape during drain: 200", "link close");
    assertThatThrownBy(() -> scrape(port)).isInstanceOf(ConnectException.class);
  }

  @Test
  void metricsPortInUseFailsNamingTheKey() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      assertThatThrownBy(() -> DaemonServices.start(ConfigLoader.load(home, Map.of(), Map.of("metrics.port", taken.getLocalPort()))))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("metrics.port: " + taken.getLocalPort() + " is already in use");
    }
  }

  @Test
  void metricsOffMeansNoEndpoint() throws Exception {
    try (DaemonServices s = DaemonServices.start(ConfigLoader.load(home, Map.of(), Map.of("metrics.port", 0)))) {
      assertThat(s.metricsPort()).isEmpty();
      s.metrics().error("path_down");
      assertThat(s.metrics().errors("path_down")).isEqualTo(1);
    }
  }

  @Test
  void badConfigStopsTheStart() throws Exception {
    Files.writeString(home.resolve("config.toml"), "[metrics]\nport = 70000\n");
    assertThatThrownBy(() -> DaemonServices.start(home, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("metrics.port: 70000 (expected: 0-65535)");
  }
}
