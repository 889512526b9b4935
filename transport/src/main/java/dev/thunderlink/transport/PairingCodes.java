package dev.thunderlink.transport;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The host's one-time pairing codes. One code is active at a time (a new one replaces it);
 * it expires after its time to live, is consumed by a successful pairing and burned after
 * {@link #MAX_FAILURES} wrong attempts, so a stranger gets at most three online guesses
 * at a 40-bit code (J-PAKE gives an eavesdropper nothing to guess offline).
 *
 * <p>Thread-safe: all state guarded by {@code this}.
 */
public final class PairingCodes {
  public static final int MAX_FAILURES = 3;
  public static final Duration DEFAULT_TTL = Duration.ofMinutes(5);
  // Crockford's base32: no I, L, O, U, so it reads back unambiguously.
  private static final char[] ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private String code;
  private Instant expires;
  private int failures;

  public PairingCodes(Clock clock) {
    this.clock = clock;
  }

  /** Creates a new code (replacing any active one), e.g. {@code 7KQ2-M9XD}. */
  public synchronized Issued issue(Duration ttl) {
    if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException("ttl: " + ttl.toSeconds() + "s (expected: 1..3600 seconds)");
    }
    StringBuilder sb = new StringBuilder(9);
    for (int i = 0; i < 8; i++) {
      if (i == 4) {
        sb.append('-');
      }
      sb.append(ALPHABET[random.nextInt(ALPHABET.length)]);
    }
    code = sb.toString();
    expires = clock.instant().plus(ttl);
    failures = 0;
    return new Issued(code, expires);
  }

  /** A code and when it stops working. */
  public record Issued(String code, Instant expires) {}

  /** The normalised active code, or a reason why there is none. */
  public synchronized Optional<String> active(StringBuilder whyNot) {
    if (code == null) {
      whyNot.append("no pairing code is active on the host; run `thunderlink pair` there first");
      return Optional.empty();
    }
    if (!clock.instant().isBefore(expires)) {
      code = null;
      whyNot.append("the pairing code has expired; run `thunderlink pair` on the host for a new one");
      return Optional.empty();
    }
    return Optional.of(normalize(code));
  }

  /** Records a wrong attempt; burns the code after {@link #MAX_FAILURES}. */
  public synchronized void failed() {
    if (++failures >= MAX_FAILURES) {
      code = null;
    }
  }

  /** Consumes the code after a successful pairing. */
  public synchronized void consumed() {
    code = null;
  }

  /** Whether {@code code} has a pairing code's form once {@linkplain #normalize normalized}: 8 letters or digits. */
  public static boolean wellFormed(String code) {
    return normalize(code).matches("[0-9A-Z]{8}");
  }

  /** What a malformed code gets told. */
  public static String malformed(String code) {
    return "pairing code: " + code + " (expected: 8 letters or digits, like 7KQ2-M9XD)";
  }

  /** Upper-case, no separators or spaces; O→0, I/L→1 as Crockford allows. */
  public static String normalize(String code) {
    StringBuilder sb = new StringBuilder();
    for (char c : code.toUpperCase(java.util.Locale.ROOT).toCharArray()) {
      if (c == '-' || c == ' ') {
        continue;
      }
      sb.append(c == 'O' ? '0' : (c == 'I' || c == 'L') ? '1' : c);
    }
    return sb.toString();
  }
}
