package dev.thunderlink.daemon.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.thunderlink.daemon.metrics.Metrics.PathState;
import dev.thunderlink.daemon.metrics.Metrics.SendMode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Feeds every metric, scrapes /metrics over real HTTP and parses the text format. */
class MetricsEndpointTest {
  /** One sample line of the text format. */
  record Sample(String name, Map<String, String> labels, double value) {}

  private static final Pattern LINE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

  static List<Sample> parse(String text, Map<String, String> types) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("# TYPE ")) {
        String[] p = line.split(" ");
        types.put(p[2], p[3]);
        continue;
      }
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = LINE.matcher(line);
      if (!m.matches()) {
        throw new AssertionError("not a text-format sample: " + line);
      }
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(2) != null) {
        Matcher l = LABEL.matcher(m.group(2));
        int end = 0;
        while (l.find() && l.start() == end) {
          labels.put(l.group(1), l.group(2));
          end = l.end();
        }
        assertThat(end).as("labels of " + line).isEqualTo(m.group(2).length());
      }
      out.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3))));
    }
    return out;
  }

  static double value(List<Sample> samples, String name, Map<String, String> labels) {
    return samples.stream()
        .filter(s -> s.name().equals(name) && s.labels().equals(labels))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no sample " + name + labels))
        .value();
  }

  @Test
  void everyNamedMetricIsScrapedOverHttp() throws Exception {
    Metrics m = new Metrics();
    m.pathRtt("tb", Duration.ofNanos(350_000));
    m.pathState("tb", PathState.ACTIVE);
    m.pathState("wifi", PathState.DOWN);
    m.bytesSent(SendMode.ZERO_COPY, 1_000_000);
    m.bytesSent(SendMode.ZERO_COPY, 500);
    m.bytesSent(SendMode.LZ4, 42);
    m.syncPropagated(Duration.ofMillis(80));
    m.syncPropagated(Duration.ofMillis(3000));
    m.pendingChanges(7);
    m.conflict();
    m.timeToFirstToken("qwen3:8b", Duration.ofMillis(180));
    m.queueWait("interactive", Duration.ofMillis(2));
    m.modelLoaded("qwen3:8b");
    m.modelSwapped("llama3:70b");
    m.error("path_down");
    m.error("path_down");

    String body;
    try (MetricsEndpoint e = MetricsEndpoint.bind(m, 0)) {
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + e.port() + "/metrics")).build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
      body = r.body();
    }
    Map<String, String> types = new LinkedHashMap<>();
    List<Sample> s = parse(body, types);
    assertThat(value(s, "thunderlink_path_rtt_seconds", Map.of("path", "tb"))).isEqualTo(0.00035);
    assertThat(value(s, "thunderlink_path_state", Map.of("path", "tb", "thunderlink_path_state", "active"))).isEqualTo(1);
    assertThat(value(s, "thunderlink_path_state", Map.of("path", "tb", "thunderlink_path_state", "down"))).isEqualTo(0);
    assertThat(value(s, "thunderlink_path_state", Map.of("path", "wifi", "thunderlink_path_state", "down"))).isEqualTo(1);
    assertThat(value(s, "thunderlink_sent_bytes_total", Map.of("mode", "zero_copy"))).isEqualTo(1_000_500);
    assertThat(value(s, "thunderlink_sent_bytes_total", Map.of("mode", "lz4"))).isEqualTo(42);
    assertThat(value(s, "thunderlink_sync_propagation_seconds_bucket", Map.of("le", "0.1"))).isEqualTo(1);
    assertThat(value(s, "thunderlink_sync_propagation_seconds_bucket", Map.of("le", "5.0"))).isEqualTo(2);
    assertThat(value(s, "thunderlink_sync_propagation_seconds_bucket", Map.of("le", "+Inf"))).isEqualTo(2);
    assertThat(value(s, "thunderlink_sync_propagation_seconds_count", Map.of())).isEqualTo(2);
    assertThat(value(s, "thunderlink_sync_propagation_seconds_sum", Map.of())).isCloseTo(3.08, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(value(s, "thunderlink_sync_pending_changes", Map.of())).isEqualTo(7);
    assertThat(value(s, "thunderlink_sync_conflicts_total", Map.of())).isEqualTo(1);
    assertThat(value(s, "thunderlink_inference_time_to_first_token_seconds_bucket", Map.of("model", "qwen3:8b", "le", "0.25")))
        .isEqualTo(1);
    assertThat(value(s, "thunderlink_inference_time_to_first_token_seconds_bucket", Map.of("model", "qwen3:8b", "le", "0.1")))
        .isEqualTo(0);
    assertThat(value(s, "thunderlink_inference_queue_wait_seconds_count", Map.of("class", "interactive"))).isEqualTo(1);
    assertThat(value(s, "thunderlink_inference_model_loads_total", Map.of("model", "qwen3:8b"))).isEqualTo(1);
    assertThat(value(s, "thunderlink_inference_model_loads_total", Map.of("model", "llama3:70b"))).isEqualTo(1);
    assertThat(value(s, "thunderlink_inference_model_swaps_total", Map.of())).isEqualTo(1);
    assertThat(value(s, "thunderlink_errors_total", Map.of("kind", "path_down"))).isEqualTo(2);
    assertThat(types)
        .containsEntry("thunderlink_sync_propagation_seconds", "histogram")
        .containsEntry("thunderlink_sent_bytes_total", "counter")
        .containsEntry("thunderlink_path_rtt_seconds", "gauge")
        .containsEntry("thunderlink_path_state", "gauge");
    // status reads the same numbers
    assertThat(m.bytesSent(SendMode.ZERO_COPY)).isEqualTo(1_000_500);
    assertThat(m.errors("path_down")).isEqualTo(2);
    assertThat(m.conflicts()).isEqualTo(1);
    assertThat(m.pathRttSeconds("tb")).isEqualTo(0.00035);
  }

  @Test
  void portInUseNamesTheKeyAndThePort() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      assertThatThrownBy(() -> MetricsEndpoint.start(new Metrics(), taken.getLocalPort()))
          .isInstanceOf(IOException.class)
          .hasMessage(
              "metrics.port: " + taken.getLocalPort()
                  + " is already in use on 127.0.0.1 (expected: a free port, or 0 to turn metrics off)");
    }
  }

  @Test
  void portZeroTurnsTheEndpointOff() throws Exception {
    assertThat(MetricsEndpoint.start(new Metrics(), 0)).isEmpty();
  }

  @Test
  void negativeBytesAreRefused() {
    assertThatThrownBy(() -> new Metrics().bytesSent(SendMode.LZ4, -1)).hasMessage("bytes: -1 (expected: >= 0)");
  }
}
