package dev.thunderlink.daemon.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * One key of the schema: its name, its default and how a raw TOML/JSON value becomes a
 * checked Java value. Immutable; package-private (the schema is {@link Settings}).
 *
 * @param <T> the Java type of the value
 */
final class Setting<T> {
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** A value of the wrong type or out of range; the loader adds the key and where it came from. */
  static final class Invalid extends Exception {
    private static final long serialVersionUID = 1L;
    final String subKey;
    final JsonNode value;
    final String expected;

    Invalid(String subKey, JsonNode value, String expected) {
      super(expected, null, false, false);
      this.subKey = subKey;
      this.value = value;
      this.expected = expected;
    }

    Invalid(JsonNode value, String expected) {
      this("", value, expected);
    }
  }

  /**
   * Turns a raw node into a value. Unknown fields of inline tables are reported by adding
   * their sub-key (e.g. {@code [0].nmae}) to {@code unknown}.
   */
  interface Parser<T> {
    T parse(JsonNode node, List<String> unknown) throws Invalid;
  }

  final String key;
  final JsonNode defaultNode;
  final Parser<T> parser;
  /** True for keys whose value is a list: an environment value {@code a,b} is split on commas. */
  final boolean list;

  Setting(String key, JsonNode defaultNode, Parser<T> parser, boolean list) {
    this.key = key;
    this.defaultNode = defaultNode;
    this.parser = parser;
    this.list = list;
  }

  /** {@code THUNDERLINK_TUNING_WIFI_SEND_BUFFER_BYTES} for {@code tuning.wifi.send_buffer_bytes}. */
  String environmentName() {
    return "THUNDERLINK_" + key.toUpperCase(Locale.ROOT).replace('.', '_');
  }

  // ---- value parsers ----------------------------------------------------------------

  static Parser<Integer> intRange(long min, long max) {
    String expected = range(min, max);
    return (n, w) -> {
      if (n == null || !n.isIntegralNumber()) {
        throw new Invalid(n, "an integer " + expected);
      }
      if (!n.canConvertToLong() || n.asLong() < min || n.asLong() > max) {
        throw new Invalid(n, expected);
      }
      return n.asInt();
    };
  }

  static Parser<Long> longRange(long min, long max) {
    String expected = range(min, max);
    return (n, w) -> {
      if (n == null || !n.isIntegralNumber()) {
        throw new Invalid(n, "an integer " + expected);
      }
      if (!n.canConvertToLong() || n.asLong() < min || n.asLong() > max) {
        throw new Invalid(n, expected);
      }
      return n.asLong();
    };
  }

  static String range(long min, long max) {
    if (max == Integer.MAX_VALUE || max == Long.MAX_VALUE) {
      return min == 1 ? "> 0" : ">= " + min;
    }
    return min + "-" + max;
  }

  static final Parser<Boolean> BOOL =
      (n, w) -> {
        if (n == null || !n.isBoolean()) {
          throw new Invalid(n, "true or false");
        }
        return n.booleanValue();
      };

  static Parser<String> oneOf(String... choices) {
    Set<String> set = Set.of(choices);
    String expected = String.join(", ", choices);
    return (n, w) -> {
      if (n == null || !n.isTextual() || !set.contains(n.textValue())) {
        throw new Invalid(n, expected);
      }
      return n.textValue();
    };
  }

  /** A list whose items each go through {@code item}; the index is part of the error's key. */
  static <E> Parser<List<E>> listOf(String what, Parser<E> item) {
    return (n, w) -> {
      if (n == null || !n.isArray()) {
        throw new Invalid(n, "a list of " + what);
      }
      List<E> out = new ArrayList<>();
      for (int i = 0; i < n.size(); i++) {
        try {
          List<String> itemUnknown = new ArrayList<>();
          out.add(item.parse(n.get(i), itemUnknown));
          for (String u : itemUnknown) {
            w.add("[" + i + "]" + u);
          }
        } catch (Invalid e) {
          throw new Invalid("[" + i + "]" + e.subKey, e.value, e.expected);
        }
      }
      return out;
    };
  }

  static Parser<String> text(String expected, Function<String, Boolean> ok) {
    return (n, w) -> {
      if (n == null || !n.isTextual() || !ok.apply(n.textValue())) {
        throw new Invalid(n, expected);
      }
      return n.textValue();
    };
  }

  /** Checks an inline table: it is a table, and fields not in {@code known} give a warning. */
  static ObjectNode table(JsonNode n, String expected, Set<String> known, List<String> warnings) throws Invalid {
    if (n == null || !n.isObject()) {
      throw new Invalid(n, expected);
    }
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!known.contains(f)) {
        warnings.add("." + f);
      }
    }
    return (ObjectNode) n;
  }

  static JsonNode field(ObjectNode table, String name, boolean required) throws Invalid {
    JsonNode v = table.get(name);
    if (v == null && required) {
      throw new Invalid("." + name, null, "a value (missing)");
    }
    return v;
  }

  static ArrayNode strings(String... values) {
    ArrayNode a = NODES.arrayNode();
    for (String v : values) {
      a.add(v);
    }
    return a;
  }

  /** The part {@code (expected: ...)} of an IllegalArgumentException thrown by a record constructor. */
  static String expectedOf(IllegalArgumentException e) {
    String m = String.valueOf(e.getMessage());
    int i = m.indexOf("(expected: ");
    if (i < 0) {
      return m;
    }
    int end = m.lastIndexOf(')');
    return m.substring(i + "(expected: ".length(), end > i ? end : m.length());
  }
}
