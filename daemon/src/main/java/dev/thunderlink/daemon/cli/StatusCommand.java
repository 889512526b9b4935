package dev.thunderlink.daemon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thunderlink.proto.control.ControlGrpc;
import dev.thunderlink.proto.control.PathStatus;
import dev.thunderlink.proto.control.StatusRequest;
import dev.thunderlink.proto.control.StatusResponse;
import dev.thunderlink.transport.LocalControlServer;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code thunderlink status}: what the local daemon is doing. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Show the local daemon's role, transport, paths and peer.")
public final class StatusCommand implements Callable<Integer> {
  @Mixin HomeOption home;

  @Option(names = "--json", description = "Print JSON for scripts.")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    StatusResponse s;
    Map<String, Long> sync = null; // the workstation's sessions by state
    try (LocalControlServer.Connection c = LocalControlServer.connect(home.resolve().dir())) {
      s = ControlGrpc.newBlockingStub(c.channel()).withDeadlineAfter(ControlCalls.QUICK_SECONDS, TimeUnit.SECONDS).status(StatusRequest.getDefaultInstance());
      if (s.getRole().equals("workstation")) {
        try {
          sync = new java.util.TreeMap<>();
          for (var x : dev.thunderlink.proto.synccontrol.SyncControlGrpc.newBlockingStub(c.channel())
              .withDeadlineAfter(ControlCalls.QUICK_SECONDS, TimeUnit.SECONDS)
              .list(dev.thunderlink.proto.synccontrol.SyncListRequest.getDefaultInstance()).getSessionsList()) {
            sync.merge(x.getState(), 1L, Long::sum);
          }
        } catch (RuntimeException e) {
          sync = null; // the status above still stands; `sync list` says why
        }
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = toMap(s);
      if (sync != null) {
        m.put("sync_sessions", sync); // state -> how many (RUNNING, PAUSED, HALTED, NOT_STARTED)
      }
      JsonOut.print(out, m);
    } else {
      print(out, s);
      if (sync != null) {
        out.println("  " + syncLine(sync));
        out.flush();
      }
    }
    return 0;
  }

  /** {@code sync: 3 sessions: 2 running, 1 halted (see `thunderlink sync list`)}, or none. */
  static String syncLine(Map<String, Long> byState) {
    long total = byState.values().stream().mapToLong(Long::longValue).sum();
    if (total == 0) {
      return "sync: no sessions";
    }
    List<String> parts = new ArrayList<>();
    byState.forEach((state, n) -> parts.add(n + " " + state.toLowerCase(java.util.Locale.ROOT).replace('_', ' ')));
    boolean attention = byState.keySet().stream().anyMatch(k -> !k.equals("RUNNING") && !k.equals("PAUSED"));
    return "sync: " + total + (total == 1 ? " session: " : " sessions: ") + String.join(", ", parts)
        + (attention ? " (see `thunderlink sync list`)" : "");
  }

  static Map<String, Object> toMap(StatusResponse s) throws Exception {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("role", s.getRole());
    m.put("version", s.getDaemonVersion());
    m.put("protocol_version", s.getProtocolVersion());
    m.put("device_id", s.getDeviceId());
    m.put("device_name", s.getDeviceName());
    m.put("pid", s.getPid());
    m.put("home", s.getHome());
    m.put("transport", s.getTransport());
    m.put("tls_provider", s.getTlsProvider());
    m.put("uptime_ms", s.getUptimeMillis());
    m.put("listen", s.getListenList());
    m.put("active_path", s.getActivePath().isEmpty() ? null : s.getActivePath());
    List<Map<String, Object>> paths = new ArrayList<>();
    for (PathStatus p : s.getPathsList()) {
      Map<String, Object> pm = new LinkedHashMap<>();
      pm.put("name", p.getName());
      pm.put("address", p.getAddress());
      pm.put("kind", p.getKind());
      pm.put("state", p.getState());
      pm.put("active", p.getActive());
      pm.put("rtt_us", p.getRttMicros() < 0 ? null : p.getRttMicros());
      pm.put("last_change_unix_ms", p.getLastChangeUnixMillis());
      pm.put("last_error", p.getLastError().isEmpty() ? null : p.getLastError());
      pm.put("bulk_mode", p.getBulkMode());
      paths.add(pm);
    }
    m.put("paths", paths);
    if (s.hasPeer()) {
      Map<String, Object> pm = new LinkedHashMap<>();
      pm.put("device_id", s.getPeer().getDeviceId());
      pm.put("device_name", s.getPeer().getDeviceName());
      pm.put("fingerprint", s.getPeer().getFingerprint());
      pm.put("version", s.getPeer().getDaemonVersion());
      pm.put("protocol_version", s.getPeer().getProtocolVersion());
      pm.put("connected", s.getPeer().getConnected());
      m.put("peer", pm);
    } else {
      m.put("peer", null);
    }
    JsonNode tuning = JsonOut.MAPPER.readTree(s.getTuningJson().isEmpty() ? "{}" : s.getTuningJson());
    m.put("tuning", tuning);
    m.put("metrics", new java.util.TreeMap<>(s.getMetricsMap()));
    return m;
  }

  private static void print(PrintWriter out, StatusResponse s) {
    out.printf("thunderlink %s — %s %s (%s), pid %d%n", s.getDaemonVersion(), s.getRole(), s.getDeviceName(), s.getDeviceId(), s.getPid());
    out.printf("  transport: %s   tls: %s   uptime: %s%n", s.getTransport(), s.getTlsProvider(), uptime(s.getUptimeMillis()));
    if (!s.getListenList().isEmpty()) {
      out.printf("  listening: %s%n", String.join(", ", s.getListenList()));
    }
    if (s.hasPeer()) {
      out.printf(
          "  peer: %s (%s), thunderlink %s, protocol %d%s%n",
          s.getPeer().getDeviceName(),
          s.getPeer().getDeviceId(),
          s.getPeer().getDaemonVersion(),
          s.getPeer().getProtocolVersion(),
          s.getPeer().getConnected() ? "" : " — not connected");
    } else {
      out.println("  peer: none connected yet");
    }
    if (!s.getPathsList().isEmpty()) {
      out.println("  paths:");
      for (PathStatus p : s.getPathsList()) {
        out.printf(
            "    %s %-10s %-22s %-11s %-8s %-14s bulk %s%s%n",
            p.getActive() ? "*" : " ",
            p.getName(),
            p.getAddress(),
            p.getKind(),
            p.getState(),
            p.getRttMicros() < 0 ? "rtt -" : "rtt " + p.getRttMicros() + " us",
            p.getBulkMode().startsWith("tls") ? "tls" : "plaintext",
            p.getLastError().isEmpty() ? "" : "  (" + p.getLastError() + ")");
      }
      out.println(s.getActivePath().isEmpty() ? "  active path: none" : "  active path: " + s.getActivePath());
    }
    out.flush();
  }

  static String uptime(long ms) {
    long s = ms / 1000;
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return (s / 60) + "m " + (s % 60) + "s";
    }
    return (s / 3600) + "h " + ((s % 3600) / 60) + "m";
  }
}
