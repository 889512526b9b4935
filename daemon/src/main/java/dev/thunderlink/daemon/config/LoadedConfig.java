package dev.thunderlink.daemon.config;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of {@link ConfigLoader#load}: the validated config, and for {@code config show}
 * every effective value with its source, plus the warnings (unknown keys) to print at start.
 *
 * @param config the validated configuration
 * @param file where the file is (or would be)
 * @param fileExists whether the file was there
 * @param values every key of the schema, in schema order
 * @param warnings one line each, e.g. {@code unknown key host.prot ignored [file /x/config.toml]}
 */
public record LoadedConfig(
    ThunderlinkConfig config, Path file, boolean fileExists, List<EffectiveValue> values, List<String> warnings) {

  public LoadedConfig {
    values = List.copyOf(values);
    warnings = List.copyOf(warnings);
  }

  public Optional<EffectiveValue> value(String key) {
    return values.stream().filter(v -> v.key().equals(key)).findFirst();
  }

  /** {@code config show}: one {@code key = value  # source} line per key, valid TOML apart from the flat keys. */
  public String toText() {
    StringBuilder b = new StringBuilder();
    b.append("# ").append(file).append(fileExists ? "" : " (absent: defaults apply)").append('\n');
    int width = 0;
    for (EffectiveValue v : values) {
      width = Math.max(width, Math.min(60, v.key().length() + 3 + TomlValues.render(v.value()).length()));
    }
    for (EffectiveValue v : values) {
      String line = v.key() + " = " + TomlValues.render(v.value());
      b.append(line).append(" ".repeat(Math.max(1, width - line.length() + 2))).append("# ").append(v.source().label());
      if (v.source() == ConfigSource.ENVIRONMENT) {
        b.append(' ').append(v.origin());
      }
      b.append('\n');
    }
    for (String w : warnings) {
      b.append("# warning: ").append(w).append('\n');
    }
    return b.toString();
  }

  /** {@code config show --json}: {@code {file, file_exists, warnings, settings: {key: {value, source, origin}}}}. */
  public ObjectNode toJson() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode root = f.objectNode();
    root.put("file", file.toString());
    root.put("file_exists", fileExists);
    root.set("warnings", f.arrayNode().addAll(warnings.stream().map(f::textNode).toList()));
    ObjectNode settings = root.putObject("settings");
    for (EffectiveValue v : values) {
      ObjectNode s = settings.putObject(v.key());
      s.set("value", v.value());
      s.put("source", v.source().label());
      s.put("origin", v.origin());
    }
    return root;
  }
}
