package dev.thunderlink.transport.emulator;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * What an emulated link imposes on each direction of every relayed connection: a rate (token
 * bucket), a one-way delay and a bounded jitter. Both directions get the same profile, each with
 * its own bucket. Immutable and validated on construction.
 *
 * <p>Jitter is drawn uniformly from {@code [-jitter, +jitter]}, anew at most once per millisecond
 * (segments sent together share a draw, as the frames of one Wi-Fi transmission do); a segment
 * never overtakes the one before it (TCP would not reorder bytes), so under load the effective
 * delay leans towards the upper bound. Jitter may not exceed the delay.
 *
 * @param name a label for reports
 * @param rateBitsPerSecond the rate in bit/s; {@link #UNLIMITED} for the machine's own speed
 * @param oneWayDelay delay added to every segment after it has been "transmitted"
 * @param jitter the bound of the uniform jitter around {@code oneWayDelay}
 */
public record LinkProfile(String name, long rateBitsPerSecond, Duration oneWayDelay, Duration jitter) {

  /** Rate value meaning "no rate limit". */
  public static final long UNLIMITED = 0;

  /** Thunderbolt bridge: the machine's own speed, 0.05 ms one way. */
  public static final LinkProfile THUNDERBOLT =
      new LinkProfile("thunderbolt", UNLIMITED, Duration.ofNanos(50_000), Duration.ZERO);

  /** Good Wi-Fi 6: 600 Mbit/s, 2.5 ms one way, ±1.5 ms. */
  public static final LinkProfile WIFI =
      new LinkProfile("wifi", 600_000_000L, Duration.ofNanos(2_500_000), Duration.ofNanos(1_500_000));

  /** Busy Wi-Fi: 200 Mbit/s, 10 ms one way, ±8 ms. */
  public static final LinkProfile WIFI_BUSY =
      new LinkProfile("wifi-busy", 200_000_000L, Duration.ofMillis(10), Duration.ofMillis(8));

  public LinkProfile {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(oneWayDelay, "oneWayDelay");
    Objects.requireNonNull(jitter, "jitter");
    if (name.isBlank()) {
      throw new IllegalArgumentException("name: '" + name + "' (expected: non-blank)");
    }
    if (rateBitsPerSecond < 0) {
      throw new IllegalArgumentException(
          "rateBitsPerSecond: " + rateBitsPerSecond + " (expected: >= 0, 0 = unlimited)");
    }
    if (rateBitsPerSecond > 0 && rateBitsPerSecond < 8_000) {
      throw new IllegalArgumentException(
          "rateBitsPerSecond: " + rateBitsPerSecond + " (expected: >= 8000 or 0 = unlimited)");
    }
    if (oneWayDelay.isNegative() || oneWayDelay.compareTo(Duration.ofSeconds(60)) > 0) {
      throw new IllegalArgumentException(
          "oneWayDelay: " + oneWayDelay + " (expected: >= 0 and <= 60 s)");
    }
    if (jitter.isNegative() || jitter.compareTo(oneWayDelay) > 0) {
      throw new IllegalArgumentException(
          "jitter: " + jitter + " (expected: >= 0 and <= oneWayDelay " + oneWayDelay + ")");
    }
  }

  /** A custom profile; {@code rateBitsPerSecond} 0 means unlimited. */
  public static LinkProfile custom(long rateBitsPerSecond, Duration oneWayDelay, Duration jitter) {
    return new LinkProfile("custom", rateBitsPerSecond, oneWayDelay, jitter);
  }

  /**
   * Parses a profile name ({@code thunderbolt}, {@code wifi}, {@code wifi-busy}) or a custom spec
   * {@code RATE,DELAY[,JITTER]} such as {@code 100mbit,2ms,0.5ms} or {@code unlimited,0.05ms};
   * {@code /} may separate the fields instead of {@code ,} (JMH splits parameter values at commas).
   * Rates take the suffixes {@code kbit, mbit, gbit} (or none for bit/s); times {@code us, ms, s}.
   *
   * @throws IllegalArgumentException with a one-line message naming the bad value
   */
  public static LinkProfile parse(String text) {
    Objects.requireNonNull(text, "text");
    String spec = text.trim().toLowerCase(Locale.ROOT);
    switch (spec) {
      case "thunderbolt":
        return THUNDERBOLT;
      case "wifi":
        return WIFI;
      case "wifi-busy":
        return WIFI_BUSY;
      default:
        break;
    }
    String[] parts = spec.split("[,/]", -1);
    if (parts.length < 2 || parts.length > 3) {
      throw new IllegalArgumentException(
          "link profile: '" + text + "' (expected: thunderbolt, wifi, wifi-busy"
              + " or RATE,DELAY[,JITTER] such as 100mbit,2ms,0.5ms)");
    }
    long rate = parseRate(parts[0].trim());
    Duration delay = parseDuration("delay", parts[1].trim());
    Duration jitter = parts.length == 3 ? parseDuration("jitter", parts[2].trim()) : Duration.ZERO;
    return new LinkProfile(spec, rate, delay, jitter);
  }

  /** True when this profile imposes no rate limit. */
  public boolean unlimitedRate() {
    return rateBitsPerSecond == UNLIMITED;
  }

  @Override
  public String toString() {
    String rate = unlimitedRate() ? "unlimited" : (rateBitsPerSecond / 1e6) + " Mbit/s";
    return name + " (" + rate + ", " + oneWayDelay.toNanos() / 1e6 + " ms ±"
        + jitter.toNanos() / 1e6 + " ms one way)";
  }

  private static long parseRate(String s) {
    if (s.equals("unlimited")) {
      return UNLIMITED;
    }
    long multiplier = 1;
    String number = s;
    if (s.endsWith("gbit")) {
      multiplier = 1_000_000_000L;
      number = s.substring(0, s.length() - 4);
    } else if (s.endsWith("mbit")) {
      multiplier = 1_000_000L;
      number = s.substring(0, s.length() - 4);
    } else if (s.endsWith("kbit")) {
      multiplier = 1_000L;
      number = s.substring(0, s.length() - 4);
    }
    try {
      double value = Double.parseDouble(number);
      if (!(value >= 0) || Double.isInfinite(value)) {
        throw new NumberFormatException();
      }
      return Math.round(value * multiplier);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "rate: '" + s + "' (expected: a number with kbit, mbit or gbit, or unlimited)");
    }
  }

  private static Duration parseDuration(String what, String s) {
    long unitNanos;
    String number;
    if (s.endsWith("us")) {
      unitNanos = 1_000L;
      number = s.substring(0, s.length() - 2);
    } else if (s.endsWith("ms")) {
      unitNanos = 1_000_000L;
      number = s.substring(0, s.length() - 2);
    } else if (s.endsWith("s")) {
      unitNanos = 1_000_000_000L;
      number = s.substring(0, s.length() - 1);
    } else {
      throw new IllegalArgumentException(
          what + ": '" + s + "' (expected: a duration such as 2ms, 50us or 0.01s)");
    }
    try {
      double value = Double.parseDouble(number);
      if (!(value >= 0) || value * unitNanos > 60e9) {
        throw new NumberFormatException();
      }
      return Duration.ofNanos(Math.round(value * unitNanos));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          what + ": '" + s + "' (expected: a duration >= 0 and <= 60s such as 2ms, 50us)");
    }
  }
}
