package dev.thunderlink.daemon.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;

/** Renders a value as a TOML literal (inline tables and arrays), for messages and {@code config show}. */
final class TomlValues {
  private TomlValues() {}

  static String render(JsonNode n) {
    StringBuilder b = new StringBuilder();
    append(b, n);
    return b.toString();
  }

  private static void append(StringBuilder b, JsonNode n) {
    if (n == null || n.isNull()) {
      b.append("(none)");
    } else if (n.isTextual()) {
      quote(b, n.textValue());
    } else if (n.isArray()) {
      b.append('[');
      for (int i = 0; i < n.size(); i++) {
        b.append(i == 0 ? "" : ", ");
        append(b, n.get(i));
      }
      b.append(']');
    } else if (n.isObject()) {
      b.append('{');
      boolean first = true;
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        b.append(first ? " " : ", ").append(e.getKey()).append(" = ");
        append(b, e.getValue());
        first = false;
      }
      b.append(first ? "}" : " }");
    } else {
      b.append(n.asText());
    }
  }

  private static void quote(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\t' -> b.append("\\t");
        case '\r' -> b.append("\\r");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            b.append(String.format("\\u%04X", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
