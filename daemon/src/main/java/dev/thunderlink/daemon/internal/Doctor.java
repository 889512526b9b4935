package dev.thunderlink.daemon.internal;

import dev.thunderlink.proto.control.ControlGrpc;
import dev.thunderlink.proto.control.PathStatus;
import dev.thunderlink.proto.control.StatusRequest;
import dev.thunderlink.proto.control.StatusResponse;
import dev.thunderlink.proto.synccontrol.SyncControlGrpc;
import dev.thunderlink.proto.synccontrol.SyncListRequest;
import dev.thunderlink.proto.synccontrol.SyncSessionStatus;
import dev.thunderlink.transport.LocalControlServer;
import dev.thunderlink.transport.TlsContexts;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.TransportKind;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The checks behind {@code thunderlink doctor}. On macOS it asks the system tools
 * (ifconfig, networksetup, sysctl); on Linux it reads /proc and /sys, and says which
 * macOS-only checks it skipped.
 */
public final class Doctor {
  /** One check: status is ok, warn, fail or skip. */
  public record Check(String name, String status, String detail, String fix) {}

  private static final long EIGHT_MIB = 8L * 1024 * 1024;
  private final Path home;
  private final boolean mac = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("mac");

  public Doctor(Path home) {
    this.home = home;
  }

  public List<Check> run() {
    List<Check> out = new ArrayList<>();
    out.add(transport());
    out.add(new Check("tls provider", "ok", TlsContexts.providerDescription(), ""));
    if (mac) {
      out.addAll(macBridge());
      out.add(macSockBuf());
    } else {
      out.addAll(linuxInterfaces());
      out.add(linuxSockBuf());
      out.add(new Check("thunderbolt bridge0", "skip", "macOS only (bridge0, networksetup); checked link-local interfaces instead", ""));
    }
    out.addAll(daemon());
    return out;
  }

  private Check transport() {
    List<TransportKind> kinds = TransportFactory.availableKinds();
    TransportFactory auto = TransportFactory.auto();
    boolean nativeOk = auto.kind() != TransportKind.NIO;
    return new Check(
        "native transport",
        nativeOk ? "ok" : "warn",
        "using " + auto + "; available: " + kinds.stream().map(TransportKind::cliName).toList(),
        nativeOk ? "" : "no native transport loaded; NIO works but costs CPU (check the netty native jars for this OS/arch)");
  }

  private List<Check> macBridge() {
    List<Check> out = new ArrayList<>();
    String ports = exec("networksetup", "-listallhardwareports");
    boolean tbPort = ports != null && ports.contains("Thunderbolt");
    out.add(
        new Check(
            "thunderbolt ports",
            tbPort ? "ok" : "warn",
            tbPort ? "networksetup lists Thunderbolt hardware ports" : "networksetup lists no Thunderbolt port",
            tbPort ? "" : "connect the cable; System Settings > Network should show 'Thunderbolt Bridge'"));
    String ifc = exec("ifconfig", "bridge0");
    if (ifc == null || ifc.isBlank()) {
      out.add(new Check("thunderbolt bridge0", "fail", "bridge0 does not exist", "connect the Thunderbolt cable and enable 'Thunderbolt Bridge' in System Settings > Network"));
      return out;
    }
    boolean linkLocal = ifc.contains("inet 169.254.");
    boolean any = ifc.contains("inet ");
    out.add(
        new Check(
            "thunderbolt bridge0",
            linkLocal || any ? "ok" : "fail",
            linkLocal ? "bridge0 has a 169.254/16 address" : any ? "bridge0 has a manual address" : "bridge0 has no IPv4 address",
            linkLocal || any ? "" : "set Thunderbolt Bridge to 'Using DHCP' (self-assigned 169.254) or give it a manual address"));
    int mtu = parseMtu(ifc);
    out.add(
        new Check(
            "bridge0 mtu",
            mtu >= 9000 ? "ok" : "warn",
            "mtu " + mtu,
            mtu >= 9000 ? "" : "for full speed in both directions: sudo ifconfig bridge0 mtu 9000 (on both Macs)"));
    return out;
  }

  private static int parseMtu(String ifconfig) {
    int i = ifconfig.indexOf("mtu ");
    if (i < 0) {
      return -1;
    }
    String rest = ifconfig.substring(i + 4).trim().split("\\s+")[0];
    try {
      return Integer.parseInt(rest);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private Check macSockBuf() {
    String v = exec("sysctl", "-n", "kern.ipc.maxsockbuf");
    try {
      long n = Long.parseLong(v.trim());
      return new Check(
          "kern.ipc.maxsockbuf",
          n >= EIGHT_MIB ? "ok" : "warn",
          n + " bytes",
          n >= EIGHT_MIB ? "" : "sudo sysctl -w kern.ipc.maxsockbuf=16777216 (the Thunderbolt profile asks for 8 MiB buffers)");
    } catch (RuntimeException e) {
      return new Check("kern.ipc.maxsockbuf", "warn", "cannot read it", "run: sysctl kern.ipc.maxsockbuf");
    }
  }

  private List<Check> linuxInterfaces() {
    List<Check> out = new ArrayList<>();
    try {
      for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!ni.isUp() || ni.isLoopback()) {
          continue;
        }
        for (InetAddress a : Collections.list(ni.getInetAddresses())) {
          if (a instanceof Inet4Address && a.isLinkLocalAddress()) {
            int mtu = ni.getMTU();
            out.add(
                new Check(
                    "link-local " + ni.getName(),
                    mtu >= 9000 ? "ok" : "warn",
                    a.getHostAddress() + " mtu " + mtu + (ni.getName().startsWith("thunderbolt") ? " (thunderbolt-net)" : ""),
                    mtu >= 9000 ? "" : "for Thunderbolt networking: ip link set " + ni.getName() + " mtu 9000"));
          }
        }
      }
    } catch (IOException e) {
      out.add(new Check("interfaces", "warn", "cannot list interfaces: " + e.getMessage(), ""));
    }
    if (out.isEmpty()) {
      out.add(new Check("thunderbolt interface", "skip", "no link-local (169.254/16) interface is up; loopback and LAN paths still work", "on Linux, load thunderbolt-net and bring up thunderbolt0"));
    }
    return out;
  }

  private Check linuxSockBuf() {
    long r = readLong("/proc/sys/net/core/rmem_max");
    long w = readLong("/proc/sys/net/core/wmem_max");
    boolean ok = r >= EIGHT_MIB && w >= EIGHT_MIB;
    return new Check(
        "socket buffer limits",
        r < 0 ? "warn" : ok ? "ok" : "warn",
        "net.core.rmem_max=" + r + " wmem_max=" + w,
        ok ? "" : "sudo sysctl -w net.core.rmem_max=16777216 net.core.wmem_max=16777216 (buffers are capped at these)");
  }

  private static long readLong(String file) {
    return dev.thunderlink.transport.ProcFiles.readLong(Path.of(file));
  }

  private List<Check> daemon() {
    List<Check> out = new ArrayList<>();
    StatusResponse s;
    List<SyncSessionStatus> sessions = null;
    try (LocalControlServer.Connection c = LocalControlServer.connect(home)) {
      s = ControlGrpc.newBlockingStub(c.channel()).withDeadlineAfter(3, TimeUnit.SECONDS).status(StatusRequest.getDefaultInstance());
      if (s.getRole().equals("workstation")) {
        try {
          sessions = SyncControlGrpc.newBlockingStub(c.channel()).withDeadlineAfter(3, TimeUnit.SECONDS)
              .list(SyncListRequest.getDefaultInstance()).getSessionsList();
        } catch (RuntimeException e) {
          out.add(new Check("sync sessions", "warn", "cannot list them: " + e.getMessage(), "run `thunderlink sync list`"));
        }
      }
    } catch (IOException | RuntimeException e) {
      out.add(new Check("daemon", "skip", "no daemon answers for " + home + ": peer and clock checks skipped", "start `thunderlink serve` or `thunderlink connect HOST`"));
      return out;
    }
    out.add(new Check("daemon", "ok", s.getRole() + " " + s.getDaemonVersion() + " pid " + s.getPid() + " on " + s.getTransport(), ""));
    for (PathStatus p : s.getPathsList()) {
      boolean up = p.getState().equals("up");
      out.add(
          new Check(
              "path " + p.getName(),
              up ? "ok" : "fail",
              p.getAddress() + " " + p.getKind() + " " + p.getState() + (p.getRttMicros() >= 0 ? " rtt " + p.getRttMicros() + " us" : "")
                  + (p.getLastError().isEmpty() ? "" : " (" + p.getLastError() + ")"),
              pathFix(p)));
    }
    if (s.getRole().equals("workstation") && s.hasPeer()) {
      long skew = Math.abs(s.getClockSkewMillis());
      out.add(
          new Check(
              "clock skew",
              skew < 2000 ? "ok" : "warn",
              s.getClockSkewMillis() + " ms (host minus workstation)",
              skew < 2000 ? "" : "enable automatic time (NTP) on both machines; mtimes and conflict names depend on it"));
    }
    if (sessions != null) {
      out.addAll(syncChecks(sessions));
    }
    return out;
  }

  /** A session's reason, without the link's own words when it only waits for the link (the path lines give them). */
  private static String waitingOrWhy(String lastError) {
    String waiting = dev.thunderlink.sync.SyncSessions.WAITING;
    return lastError.startsWith(waiting) ? waiting + " (see the path lines above)" : lastError;
  }

  /**
   * What to do about a path that is not up. A refused one was reached and said no (unpaired, an
   * incompatible version): its reason says what to do, and the cable is not the problem.
   */
  static String pathFix(PathStatus p) {
    if (p.getState().equals("up")) {
      return "";
    }
    if (p.getState().equals("refused")) {
      return "the host answered and refused this workstation: do what the reason above says";
    }
    return "check the cable/network to " + p.getAddress() + " and that `thunderlink serve` runs there";
  }

  /**
   * The workstation's sync sessions: one line when all is well, else one per session that needs
   * the user (halted, paused for space, not started, paths it cannot sync). Conflicts are not
   * among them: their record is a history (`sync conflicts`), kept after the copies are dealt with.
   */
  static List<Check> syncChecks(List<SyncSessionStatus> sessions) {
    List<Check> out = new ArrayList<>();
    for (SyncSessionStatus x : sessions) {
      String name = "sync " + x.getName();
      String status = "`thunderlink sync status " + x.getName() + "`";
      switch (x.getState()) {
        case "HALTED" -> out.add(new Check(name, "fail", "halted: " + x.getHaltReason(),
            "look at both folders, then `thunderlink sync resume " + x.getName() + " --force` to go on"));
        case "DISCONNECTED" -> out.add(new Check(name, "warn", "waiting for the host",
            "changes on either side cross once a path is back (see the path lines above)"));
        case "NOT_STARTED" -> out.add(new Check(name, "fail", "not started: " + waitingOrWhy(x.getLastError()),
            "it starts by itself once that is mended; `thunderlink sync terminate " + x.getName() + "` removes it"));
        case "PAUSED" -> {
          if (!x.getHaltReason().isEmpty()) {
            out.add(new Check(name, "warn", "paused: " + x.getHaltReason(), "free space there; it resumes by itself"));
          }
        }
        default -> {
          if (!x.getLastError().isEmpty()) {
            out.add(new Check(name, "warn", "last error: " + x.getLastError(), status));
          }
        }
      }
      if (x.getErrorsCount() > 0) {
        java.util.Map.Entry<String, String> first = new java.util.TreeMap<>(x.getErrorsMap()).firstEntry();
        out.add(new Check(name, "warn", x.getErrorsCount() + (x.getErrorsCount() == 1 ? " path" : " paths")
            + " not synced (" + first.getKey() + ": " + first.getValue() + ")", status));
      }
    }
    if (out.isEmpty()) {
      long paused = sessions.stream().filter(x -> x.getState().equals("PAUSED")).count();
      out.add(new Check("sync sessions", "ok", sessions.isEmpty() ? "none"
          : sessions.size() + (sessions.size() == 1 ? " session" : " sessions") + ", no problems"
              + (paused == 0 ? "" : " (" + paused + " paused by you)"), ""));
    }
    return out;
  }

  private static String exec(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] b = p.getInputStream().readAllBytes();
      if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return null;
      }
      return new String(b, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
