package dev.thunderlink.inference.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Shared JSON conventions of Ollama's API. Stateless; any thread. */
public final class OllamaJson {
  public static final ObjectMapper MAPPER = new ObjectMapper();

  /** Options that select how a model is loaded; a change makes Ollama reload the model. */
  public static final Set<String> LOAD_OPTIONS = Set.of("num_ctx", "num_batch", "num_gpu",
      "main_gpu", "low_vram", "f16_kv", "use_mmap", "use_mlock", "num_thread", "numa",
      "vocab_only", "kv_cache_type", "flash_attention");

  private static final DateTimeFormatter RFC3339_NANOS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSXXX", Locale.ROOT);
  private static final Pattern GO_DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

  private OllamaJson() {}

  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  /** Ollama's {@code created_at}: RFC 3339 with nanoseconds. */
  public static String timestamp(Instant instant) {
    return RFC3339_NANOS.format(OffsetDateTime.ofInstant(instant, ZoneOffset.UTC));
  }

  public static String now() {
    return timestamp(Instant.now());
  }

  /** {@code llama3.2} means {@code llama3.2:latest}, as in Ollama. */
  public static String normalizeModel(String name) {
    if (name == null) {
      return "";
    }
    String n = name.trim();
    if (n.isEmpty()) {
      return n;
    }
    int slash = n.lastIndexOf('/');
    return n.indexOf(':', slash + 1) < 0 ? n + ":latest" : n;
  }

  /**
   * Parses Ollama's {@code keep_alive}: a number of seconds, or a Go duration string
   * ({@code "5m"}, {@code "1h30m"}, {@code "0"}); a negative value means forever (returned
   * as {@code null}). A missing value returns {@code fallback}.
   *
   * @throws IllegalArgumentException for anything else, naming the value
   */
  public static Duration keepAlive(JsonNode node, Duration fallback) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return fallback;
    }
    if (node.isNumber()) {
      double seconds = node.asDouble();
      return seconds < 0 ? null : Duration.ofNanos((long) (seconds * 1e9));
    }
    String s = node.asText().trim();
    if (s.isEmpty()) {
      return fallback;
    }
    if (s.startsWith("-")) {
      return null;
    }
    try {
      double seconds = Double.parseDouble(s);
      return Duration.ofNanos((long) (seconds * 1e9));
    } catch (NumberFormatException notNumber) {
      // a Go duration
    }
    Matcher m = GO_DURATION.matcher(s);
    long nanos = 0;
    int end = 0;
    while (m.find()) {
      if (m.start() != end) {
        break;
      }
      double v = Double.parseDouble(m.group(1));
      nanos += (long) (v * switch (m.group(2)) {
        case "ns" -> 1;
        case "us", "µs" -> 1e3;
        case "ms" -> 1e6;
        case "s" -> 1e9;
        case "m" -> 60e9;
        default -> 3600e9;
      });
      end = m.end();
    }
    if (end != s.length() || end == 0) {
      throw new IllegalArgumentException("keep_alive: \"" + s
          + "\" (expected: seconds or a duration such as \"5m\")");
    }
    return Duration.ofNanos(nanos);
  }

  /** Ollama's error body: {@code {"error": "..."}}. */
  public static ObjectNode error(String message) {
    ObjectNode n = object();
    n.put("error", message);
    return n;
  }

  public static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One line of an NDJSON stream. */
  public static byte[] line(JsonNode node) {
    byte[] b = bytes(node);
    byte[] out = java.util.Arrays.copyOf(b, b.length + 1);
    out[b.length] = '\n';
    return out;
  }

  /** The first line of a Jackson parse error, without the source excerpt. */
  public static String parseError(Exception e) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage();
    int nl = m.indexOf('\n');
    return nl > 0 ? m.substring(0, nl) : m;
  }
}
