package dev.thunderlink.transport;

import java.net.InetAddress;
import java.util.Locale;

/**
 * What a path physically is. The kind picks the tuning profile and the preference order
 * when several paths are up: Thunderbolt first, then wired LAN, then Wi-Fi. Loopback
 * stands in for Thunderbolt in tests on one machine and is preferred like it.
 */
public enum PathKind {
  THUNDERBOLT(0),
  LOOPBACK(1),
  LAN(2),
  WIFI(3);

  private final int preference;

  PathKind(int preference) {
    this.preference = preference;
  }

  /**
   * Thunderbolt, or loopback standing in for it: a private cable faster than one core
   * compresses, where the bulk plane may run in plaintext and sends small files raw.
   */
  public boolean thunderboltClass() {
    return this == THUNDERBOLT || this == LOOPBACK;
  }

  /** Lower is better. */
  public int preference() {
    return preference;
  }

  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static PathKind parse(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    switch (v) {
      case "thunderbolt":
      case "tb":
        return THUNDERBOLT;
      case "loopback":
      case "lo":
        return LOOPBACK;
      case "lan":
      case "ethernet":
        return LAN;
      case "wifi":
      case "wi-fi":
      case "wlan":
        return WIFI;
      default:
        throw new IllegalArgumentException(
            "path kind: " + value + " (expected: thunderbolt, loopback, lan or wifi)");
    }
  }

  /**
   * Guesses the kind of a path from the name the user gave it and its address: names
   * starting with "tb"/"thunderbolt" or a 169.254/16 link-local address (macOS bridge0)
   * mean Thunderbolt; "wifi"/"wlan" mean Wi-Fi; a loopback address means loopback.
   */
  public static PathKind infer(String name, InetAddress address) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.startsWith("tb") || n.startsWith("thunderbolt") || n.startsWith("bridge")) {
      return THUNDERBOLT;
    }
    if (n.startsWith("wifi") || n.startsWith("wi-fi") || n.startsWith("wlan")) {
      return WIFI;
    }
    if (address != null && address.isLinkLocalAddress()) {
      return THUNDERBOLT;
    }
    if (address != null && address.isLoopbackAddress()) {
      return LOOPBACK;
    }
    return LAN;
  }
}
