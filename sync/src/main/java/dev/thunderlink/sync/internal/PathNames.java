package dev.thunderlink.sync.internal;

import java.text.Normalizer;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Path name rules shared by both sides: relative paths are '/'-separated and in Unicode NFC;
 * collision keys fold case and normalisation; conflict copies get a recognisable name.
 * Stateless and thread-safe.
 */
public final class PathNames {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT);

  private PathNames() {}

  /**
   * A session's root on the host as its user wrote it: {@code ~} and {@code ~/PATH} are under
   * {@code home} (the host user's, as in scp: a shell leaves {@code ~} after text alone); other
   * paths as they are (absolute, or refused as relative by the caller).
   *
   * @throws IllegalArgumentException {@code ~USER/...}, or not a path
   */
  public static java.nio.file.Path hostRoot(String root, java.nio.file.Path home) {
    if (root.equals("~")) {
      return home;
    }
    if (root.startsWith("~/")) {
      return home.resolve(root.substring(2)).normalize();
    }
    if (root.startsWith("~")) {
      throw new IllegalArgumentException("remote root: " + root + " (expected: ~/PATH for the host user's home;"
          + " ~USER is not supported)");
    }
    return java.nio.file.Path.of(root);
  }

  /** {@link #hostRoot} with this process's user's home. */
  public static java.nio.file.Path hostRoot(String root) {
    return hostRoot(root, java.nio.file.Path.of(System.getProperty("user.home")));
  }

  public static String nfc(String name) {
    return Normalizer.isNormalized(name, Normalizer.Form.NFC) ? name : Normalizer.normalize(name, Normalizer.Form.NFC);
  }

  /** A key equal for two names that a case-insensitive, normalising file system treats as one. */
  public static String collisionKey(String path) {
    // ASCII is its own NFC form: skip the normaliser's copy (the coordinator keys every path
    // of every change set, 20,000 per side in an initial sync)
    String nfc = isAscii(path) ? path : Normalizer.normalize(path, Normalizer.Form.NFC);
    return nfc.toLowerCase(Locale.ROOT);
  }

  public static String parent(String path) {
    int slash = path.lastIndexOf('/');
    return slash < 0 ? "" : path.substring(0, slash);
  }

  public static String fileName(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /** True if {@code path} lies strictly inside directory {@code dir} ("" is the root). */
  public static boolean isDescendant(String path, String dir) {
    if (dir.isEmpty()) {
      return !path.isEmpty();
    }
    return path.length() > dir.length() && path.startsWith(dir) && path.charAt(dir.length()) == '/';
  }

  public static int depth(String path) {
    int depth = 0;
    for (int i = 0; i < path.length(); i++) {
      if (path.charAt(i) == '/') {
        depth++;
      }
    }
    return depth;
  }

  /**
   * {@code NAME.conflict-<device>-<yyyyMMdd-HHmmss>.EXT}: {@code a/report.txt} becomes
   * {@code a/report.conflict-mini-20261126-110200.txt}; a name without extension (or a dotfile
   * such as {@code .bashrc}) gets the suffix at the end.
   */
  public static String conflictName(String path, String device, LocalDateTime when) {
    return conflictName(path, device, when, 1);
  }

  /**
   * As {@link #conflictName(String, String, LocalDateTime)}; the {@code n}-th copy of one
   * second ({@code n >= 2}) ends its stamp with {@code -n}: {@code report.conflict-mini-20261126-110200-2.txt}.
   */
  public static String conflictName(String path, String device, LocalDateTime when, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("conflict copy number: " + n + " (expected: >= 1)");
    }
    String parent = parent(path);
    String name = fileName(path);
    String safeDevice = device.replaceAll("[^A-Za-z0-9_-]", "_");
    String suffix = ".conflict-" + safeDevice + "-" + STAMP.format(when) + (n == 1 ? "" : "-" + n);
    int dot = name.lastIndexOf('.');
    String renamed = dot <= 0 ? name + suffix : name.substring(0, dot) + suffix + name.substring(dot);
    return parent.isEmpty() ? renamed : parent + "/" + renamed;
  }

  /** Rejects paths that could escape the root or are not in canonical form. */
  public static String checkRelative(String path) {
    if (path == null || path.isEmpty() || path.startsWith("/") || path.endsWith("/") || path.contains("\\")
        || path.contains("\0")) {
      throw new IllegalArgumentException("path: " + path + " (expected: a relative '/'-separated path)");
    }
    // segment by segment without split(): every path of every call passes here (an initial
    // sync checks each file's several times), and split's array and strings were C2 work too
    for (int start = 0; start <= path.length(); ) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = path.length();
      }
      int n = end - start;
      if (n == 0 || (path.charAt(start) == '.' && (n == 1 || (n == 2 && path.charAt(start + 1) == '.')))) {
        throw new IllegalArgumentException("path: " + path + " (expected: no empty, '.' or '..' segments)");
      }
      start = end + 1;
    }
    return path;
  }

  /** True if every character of {@code s} is ASCII. */
  public static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }
}
