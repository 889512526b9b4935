package dev.thunderlink.daemon.logs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * The daemon's log files under {@code HOME/logs} as logback-service.xml writes them: the
 * current {@code thunderlink.log} and rolled {@code thunderlink.DATE.N.log[.gz]}, read oldest
 * first. An entry is a line starting with an ISO-8601 timestamp plus the lines after it that
 * do not (stack traces), so {@code --since} never cuts a stack trace in half.
 * Stateless; any thread.
 */
public final class LogFiles {
  public static final String CURRENT = "thunderlink.log";
  private static final Pattern ROLLED = Pattern.compile("thunderlink\\.(\\d{4}-\\d{2}-\\d{2})\\.(\\d+)\\.log(\\.gz)?");
  private static final Pattern STAMP = Pattern.compile("^(\\d{4}-\\d{2}-\\d{2}T[^ ]+) ");

  private LogFiles() {}

  /** Rolled files by date and index, then the current file; empty when there are none. */
  public static List<Path> inOrder(Path logDir) throws IOException {
    if (!Files.isDirectory(logDir)) {
      return List.of();
    }
    List<Path> rolled = new ArrayList<>();
    try (Stream<Path> s = Files.list(logDir)) {
      s.filter(p -> ROLLED.matcher(p.getFileName().toString()).matches()).forEach(rolled::add);
    }
    rolled.sort(
        Comparator.comparing((Path p) -> group(p, 1)).thenComparingInt(p -> Integer.parseInt(group(p, 2))));
    Path current = logDir.resolve(CURRENT);
    if (Files.isRegularFile(current)) {
      rolled.add(current);
    }
    return rolled;
  }

  private static String group(Path p, int g) {
    Matcher m = ROLLED.matcher(p.getFileName().toString());
    m.matches();
    return m.group(g);
  }

  /** The timestamp that starts an entry's first line, or null for a continuation line. */
  static Instant stamp(String line) {
    Matcher m = STAMP.matcher(line);
    if (!m.find()) {
      return null;
    }
    try {
      return OffsetDateTime.parse(m.group(1)).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /**
   * Emits the lines of every entry at or after {@code since} (null: all), keeping only the
   * last {@code lastEntries} entries when that is positive.
   *
   * @return how many bytes of the current file were read: where {@code logs -f} goes on, so
   *     no line written meanwhile is lost or printed twice
   */
  public static long print(Path logDir, Instant since, int lastEntries, Consumer<String> out) throws IOException {
    long currentBytes = 0;
    Deque<List<String>> kept = new ArrayDeque<>();
    List<String> entry = null;
    boolean include = since == null;
    for (Path f : inOrder(logDir)) {
      BufferedReader reader;
      if (f.getFileName().toString().equals(CURRENT)) {
        // Read a snapshot (the file is capped at the rolling size) and cut it after its last
        // newline: a half-written line is left for the follower.
        byte[] bytes = Files.readAllBytes(f);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n') {
          end--;
        }
        currentBytes = end;
        reader = new BufferedReader(new java.io.StringReader(new String(bytes, 0, end, StandardCharsets.UTF_8)));
      } else {
        reader = open(f);
      }
      try (BufferedReader r = reader) {
        for (String line; (line = r.readLine()) != null; ) {
          Instant t = stamp(line);
          if (t != null) {
            include = since == null || !t.isBefore(since);
            entry = include ? new ArrayList<>() : null;
            if (entry != null) {
              kept.add(entry);
              if (lastEntries > 0 && kept.size() > lastEntries) {
                kept.removeFirst();
              }
            }
          }
          if (include) {
            if (entry == null) {
              entry = new ArrayList<>();
              kept.add(entry);
            }
            entry.add(line);
          }
        }
      }
    }
    for (List<String> e : kept) {
      e.forEach(out);
    }
    return currentBytes;
  }

  private static BufferedReader open(Path f) throws IOException {
    InputStream in = Files.newInputStream(f);
    if (f.getFileName().toString().endsWith(".gz")) {
      in = new GZIPInputStream(in);
    }
    return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
  }
}
