package dev.thunderlink.daemon.internal;

import java.util.Locale;

/** Byte counts for people: {@code 47 B}, {@code 1.2 KiB}, {@code 165.4 MiB}. */
public final class Sizes {
  private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB"};

  private Sizes() {}

  public static String human(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < UNITS.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, UNITS[u]);
  }

  /**
   * {@code done} of {@code total} in the total's unit ({@code 50.0 of 165.4 MiB}), so that the
   * two read together; {@code 3 of 47 B} under a KiB.
   */
  public static String humanOf(long done, long total) {
    String t = human(total);
    if (total < 1024) {
      return done + " of " + t;
    }
    String unit = t.substring(t.indexOf(' ') + 1);
    int u = java.util.Arrays.asList(UNITS).indexOf(unit) + 1;
    return String.format(Locale.ROOT, "%.1f of %s", done / Math.pow(1024, u), t);
  }
}
