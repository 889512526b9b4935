package dev.thunderlink.daemon.internal;

import java.util.Locale;

/** Byte counts for people: {@code 47 B}, {@code 1.2 KiB}, {@code 165.4 MiB}. */
public final class Sizes {
  private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB"};

  private Sizes() {}

  public static String human(long bytes) {
    int u = exponent(bytes);
    return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", bytes / Math.pow(1024, u), UNITS[u - 1]);
  }

  /**
   * {@code done} of {@code total} in the total's unit ({@code 50.0 of 165.4 MiB}), so that the
   * two read together; {@code 3 of 47 B} under a KiB.
   */
  public static String humanOf(long done, long total) {
    int u = exponent(total);
    return u == 0 ? done + " of " + total + " B"
        : String.format(Locale.ROOT, "%.1f of %s", done / Math.pow(1024, u), human(total));
  }

  /** The power of 1024 whose unit shows {@code bytes}: 0 (B) below a KiB, at most TiB's 4. */
  private static int exponent(long bytes) {
    int u = 0;
    for (long v = bytes; v >= 1024 && u < UNITS.length; v /= 1024) {
      u++;
    }
    return u;
  }
}
