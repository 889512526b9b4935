package dev.thunderlink.daemon.cli;

import dev.thunderlink.proto.control.ControlGrpc;
import dev.thunderlink.proto.control.ControlPingRequest;
import dev.thunderlink.proto.control.ControlPingResponse;
import dev.thunderlink.transport.LocalControlServer;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code thunderlink ping}: RTT to the host over the link, measured by the workstation daemon. */
@Command(name = "ping", mixinStandardHelpOptions = true, description = "Measure round-trip time to the host (gRPC ping over mutual TLS).")
public final class PingCommand implements Callable<Integer> {
  @Mixin HomeOption home;

  @Option(names = {"-c", "--count"}, paramLabel = "N", description = "Pings to send (default ${DEFAULT-VALUE}).")
  int count = 10;

  @Option(names = "--path", paramLabel = "NAME", description = "Ping over this path (default: the active one).")
  String path = "";

  @Option(names = {"-i", "--interval"}, paramLabel = "MS", description = "Milliseconds between pings (default ${DEFAULT-VALUE}; 0 back to back).")
  int intervalMillis = 100;

  @Option(names = {"-s", "--size"}, paramLabel = "BYTES", description = "Payload bytes per ping (default ${DEFAULT-VALUE}).")
  int size;

  @Option(names = "--json", description = "Print JSON for scripts.")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (count < 1 || count > 100_000) {
      throw new IllegalArgumentException("--count: " + count + " (expected: 1..100000)");
    }
    if (intervalMillis < 0) {
      throw new IllegalArgumentException("--interval: " + intervalMillis + " (expected: >= 0)");
    }
    if (size < 0 || size > 1 << 20) {
      throw new IllegalArgumentException("--size: " + size + " (expected: 0..1048576)");
    }
    ControlPingResponse r;
    try (LocalControlServer.Connection c = LocalControlServer.connect(home.resolve().dir())) {
      long deadline = 10_000L + (long) count * (intervalMillis + 1000);
      r =
          ControlGrpc.newBlockingStub(c.channel())
              .withDeadlineAfter(deadline, TimeUnit.MILLISECONDS)
              .ping(
                  ControlPingRequest.newBuilder()
                      .setCount(count)
                      .setPath(path)
                      .setIntervalMillis(intervalMillis)
                      .setPayloadBytes(size)
                      .build());
    }
    Map<String, Object> m = summarize(r);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      JsonOut.print(out, m);
    } else {
      out.printf(
          "path %s: %d sent, %d received, %.1f%% loss%n",
          r.getPath(), r.getSent(), r.getReceived(), m.get("loss_percent"));
      if (r.getReceived() > 0) {
        out.printf(
            "rtt min/p50/p99/max = %.1f/%.1f/%.1f/%.1f us%n",
            m.get("min_us"), m.get("p50_us"), m.get("p99_us"), m.get("max_us"));
      }
      out.flush();
    }
    return r.getReceived() == 0 ? 1 : 0;
  }

  /** min/p50/p99/max/mean in microseconds (nearest-rank percentiles). */
  public static Map<String, Object> summarize(ControlPingResponse r) {
    List<Long> rtts = new ArrayList<>(r.getRttNanosList());
    Collections.sort(rtts);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", r.getPath());
    m.put("sent", r.getSent());
    m.put("received", r.getReceived());
    m.put("loss_percent", r.getSent() == 0 ? 0.0 : 100.0 * (r.getSent() - r.getReceived()) / r.getSent());
    if (!rtts.isEmpty()) {
      m.put("min_us", rtts.get(0) / 1000.0);
      m.put("p50_us", percentile(rtts, 50) / 1000.0);
      m.put("p99_us", percentile(rtts, 99) / 1000.0);
      m.put("max_us", rtts.get(rtts.size() - 1) / 1000.0);
      m.put("mean_us", rtts.stream().mapToLong(Long::longValue).average().orElse(0) / 1000.0);
    }
    return m;
  }

  static long percentile(List<Long> sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }
}
