package dev.thunderlink.daemon.logs;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses {@code logs --since}: a duration back from now ({@code 30s}, {@code 10m},
 * {@code 2h}, {@code 1d}, {@code 1h30m}, ISO {@code PT10M}) or a point in time
 * ({@code 2026-11-26T10:00:00Z}, {@code 2026-11-26T10:00}, {@code 2026-11-26 10:00},
 * {@code 2026-11-26}, {@code 10:00} meaning today), local times in the given zone.
 */
public final class Since {
  private static final Pattern DURATION = Pattern.compile("(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?");

  private Since() {}

  public static Instant parse(String text, Clock clock) {
    String t = text.trim();
    ZoneId zone = clock.getZone();
    Matcher m = DURATION.matcher(t);
    if (!t.isEmpty() && m.matches()) {
      Duration d = Duration.ZERO;
      d = d.plusDays(num(m.group(1))).plusHours(num(m.group(2))).plusMinutes(num(m.group(3))).plusSeconds(num(m.group(4)));
      return clock.instant().minus(d);
    }
    try {
      if (t.startsWith("P") || t.startsWith("p")) {
        return clock.instant().minus(Duration.parse(t));
      }
      String iso = t.replace(' ', 'T');
      if (iso.matches("\\d{4}-\\d{2}-\\d{2}")) {
        return LocalDate.parse(iso).atStartOfDay(zone).toInstant();
      }
      if (iso.matches("\\d{1,2}:\\d{2}(:\\d{2}(\\.\\d+)?)?")) {
        return LocalDate.now(clock).atTime(LocalTime.parse(iso.length() == 4 || iso.indexOf(':') == 1 ? "0" + iso : iso))
            .atZone(zone).toInstant();
      }
      if (iso.endsWith("Z") || iso.matches(".*[+-]\\d{2}:\\d{2}$")) {
        return OffsetDateTime.parse(iso).toInstant();
      }
      return LocalDateTime.parse(iso).atZone(zone).toInstant();
    } catch (DateTimeParseException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "--since: " + text + " (expected: a duration like 10m, 2h, 1d or a time like 2026-11-26T10:00 or 10:00)");
    }
  }

  private static long num(String g) {
    return g == null ? 0 : Long.parseLong(g);
  }
}
