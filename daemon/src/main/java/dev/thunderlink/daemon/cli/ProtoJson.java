package dev.thunderlink.daemon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.math.BigInteger;
import java.util.Iterator;
import java.util.Map;

/**
 * A protobuf message as the JSON the other {@code --json} outputs print: protobuf's JSON
 * mapping writes 64-bit integers as strings ({@code "local_entries": "4"}), which a script then
 * compares as text ({@code jq '.local_entries > 100'} is true for "4"). Here they are numbers;
 * everything else is as {@link JsonFormat} prints it.
 */
final class ProtoJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ProtoJson() {}

  /** Indented, for one answer. */
  static String pretty(MessageOrBuilder m, JsonFormat.Printer printer) throws IOException {
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(tree(m, printer));
  }

  /** On one line, for JSON Lines. */
  static String line(MessageOrBuilder m, JsonFormat.Printer printer) throws IOException {
    return JSON.writeValueAsString(tree(m, printer));
  }

  static JsonNode tree(MessageOrBuilder m, JsonFormat.Printer printer) throws IOException {
    JsonNode n = JSON.readTree(printer.print(m));
    numbers(n, m.getDescriptorForType());
    return n;
  }

  private static void numbers(JsonNode node, Descriptor type) {
    if (!(node instanceof ObjectNode o)) {
      return;
    }
    for (FieldDescriptor f : type.getFields()) {
      String key = o.has(f.getName()) ? f.getName() : f.getJsonName(); // proto names, or lowerCamel ones
      JsonNode v = o.get(key);
      if (v == null) {
        continue;
      }
      if (f.isMapField()) {
        FieldDescriptor value = f.getMessageType().findFieldByName("value");
        if (v instanceof ObjectNode entries) {
          for (Iterator<Map.Entry<String, JsonNode>> it = entries.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            e.setValue(value(value, e.getValue()));
          }
        }
      } else if (f.isRepeated()) {
        if (v instanceof ArrayNode a) {
          for (int i = 0; i < a.size(); i++) {
            a.set(i, value(f, a.get(i)));
          }
        }
      } else {
        o.set(key, value(f, v));
      }
    }
  }

  private static JsonNode value(FieldDescriptor f, JsonNode v) {
    if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      numbers(v, f.getMessageType());
      return v;
    }
    if (f.getJavaType() == FieldDescriptor.JavaType.LONG && v.isTextual()) {
      try {
        return JsonNodeFactory.instance.numberNode(Long.parseLong(v.asText()));
      } catch (NumberFormatException e) {
        try {
          return JsonNodeFactory.instance.numberNode(new BigInteger(v.asText())); // a uint64 above Long.MAX_VALUE
        } catch (NumberFormatException notANumber) {
          return v;
        }
      }
    }
    return v;
  }
}
