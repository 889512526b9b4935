package dev.thunderlink.daemon.service;

import java.util.List;

/**
 * Renders a systemd user unit for a spec. {@code Restart=always} mirrors launchd's
 * {@code KeepAlive}; {@code TimeoutStopSec} gives the daemon its shutdown grace before
 * SIGKILL; {@code KillMode=mixed} sends SIGTERM to the JVM only, so it drains in order.
 */
public final class SystemdUnit {
  private SystemdUnit() {}

  public static String unitName(String role) {
    return "thunderlink-" + ServiceSpec.checkRole(role) + ".service";
  }

  public static String render(ServiceSpec spec) {
    StringBuilder b = new StringBuilder();
    b.append("[Unit]\n");
    b.append("Description=").append(spec.description()).append('\n');
    b.append('\n');
    b.append("[Service]\n");
    b.append("Type=simple\n");
    b.append("Environment=").append(quote("THUNDERLINK_HOME=" + spec.home())).append('\n');
    b.append("Environment=").append(quote(ServiceSpec.SERVICE_ENV + "=1")).append('\n');
    b.append("WorkingDirectory=").append(escapeSpecifiers(spec.home().toString())).append('\n');
    b.append("ExecStart=").append(execLine(spec.commandLine())).append('\n');
    b.append("Restart=always\n");
    b.append("RestartSec=2\n");
    b.append("KillSignal=SIGTERM\n");
    b.append("KillMode=mixed\n");
    b.append("TimeoutStopSec=").append(spec.stopTimeoutSeconds()).append('\n');
    b.append('\n');
    b.append("[Install]\n");
    b.append("WantedBy=default.target\n");
    return b.toString();
  }

  /** An ExecStart line: each word double-quoted, with systemd's escapes for quotes, backslashes, {@code %} and {@code $}. */
  static String execLine(List<String> words) {
    StringBuilder b = new StringBuilder();
    for (String word : words) {
      if (b.length() > 0) {
        b.append(' ');
      }
      b.append(quote(word).replace("$", "$$"));
    }
    return b.toString();
  }

  private static String quote(String s) {
    return "\"" + escapeSpecifiers(s).replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static String escapeSpecifiers(String s) {
    return s.replace("%", "%%");
  }
}
