package dev.thunderlink.transport;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * One way to reach the peer: a name ("tb", "wifi"), an address and port, and its kind.
 *
 * @param name short unique name shown in status and logs
 * @param address the peer's address on this path
 * @param kind what the path physically is
 */
public record LinkPath(String name, InetSocketAddress address, PathKind kind) {
  public static final int DEFAULT_PORT = 7420;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,31}");

  public LinkPath {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "path name: " + name + " (expected: 1-32 letters, digits, '.', '_' or '-')");
    }
  }

  /**
   * Parses {@code NAME=ADDR[:PORT][,kind=KIND]} as given to {@code --path}, e.g.
   * {@code tb=169.254.3.7:7420} or {@code wifi=192.168.1.20}.
   */
  public static LinkPath parse(String spec) {
    int eq = spec.indexOf('=');
    if (eq <= 0 || eq == spec.length() - 1) {
      throw new IllegalArgumentException(
          "--path: " + spec + " (expected: NAME=ADDR[:PORT], e.g. tb=169.254.3.7:7420)");
    }
    String name = spec.substring(0, eq);
    String rest = spec.substring(eq + 1);
    PathKind kind = null;
    int comma = rest.indexOf(',');
    if (comma >= 0) {
      String opt = rest.substring(comma + 1);
      rest = rest.substring(0, comma);
      if (!opt.startsWith("kind=")) {
        throw new IllegalArgumentException(
            "--path: " + spec + " (expected: NAME=ADDR[:PORT][,kind=thunderbolt|lan|wifi|loopback])");
      }
      kind = PathKind.parse(opt.substring(5));
    }
    InetSocketAddress address;
    try {
      address = parseHostPort(rest, DEFAULT_PORT, "--path");
    } catch (IllegalArgumentException e) {
      String m = e.getMessage();
      throw new IllegalArgumentException("--path: " + spec + " " + m.substring(m.indexOf('(')));
    }
    if (kind == null) {
      kind = PathKind.infer(name, address.getAddress());
    }
    return new LinkPath(name, address, kind);
  }

  /**
   * Parses {@code HOST[:PORT]} (IPv6 as {@code [::1]:7420}) and resolves the host now, so a
   * typo fails at start with the value in the message.
   */
  public static InetSocketAddress parseHostPort(String value, int defaultPort, String what) {
    String host = value.trim();
    int port = defaultPort;
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException(what + ": " + value + " (expected: [IPv6]:PORT)");
      }
      String after = host.substring(close + 1);
      host = host.substring(1, close);
      if (after.startsWith(":")) {
        port = parsePort(after.substring(1), value, what);
      } else if (!after.isEmpty()) {
        throw new IllegalArgumentException(what + ": " + value + " (expected: [IPv6]:PORT)");
      }
    } else {
      int colon = host.lastIndexOf(':');
      if (colon >= 0 && host.indexOf(':') == colon) {
        port = parsePort(host.substring(colon + 1), value, what);
        host = host.substring(0, colon);
      }
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException(what + ": " + value + " (expected: HOST[:PORT])");
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), port);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(what + ": " + value + " (unknown host " + host + ")");
    }
  }

  private static int parsePort(String s, String value, String what) {
    try {
      int port = Integer.parseInt(s);
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + ": " + value + " (expected: a port 0-65535)");
    }
  }

  public TuningProfile defaultTuning() {
    return TuningProfile.defaults(kind);
  }

  @Override
  public String toString() {
    return name + "=" + address.getAddress().getHostAddress() + ":" + address.getPort() + " (" + kind.cliName() + ")";
  }
}
