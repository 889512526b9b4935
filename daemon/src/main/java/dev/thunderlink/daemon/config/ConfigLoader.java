package dev.thunderlink.daemon.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the effective configuration: for each key of the schema, the first of flag,
 * environment ({@code THUNDERLINK_<KEY>}, dots as underscores), {@code HOME/config.toml} and
 * the built-in default, remembering which one supplied it.
 *
 * <p>The file is parsed with jackson-dataformat-toml: it is already pinned by the Jackson BOM
 * the project uses for JSON (one version, no new dependency tree), it is maintained by
 * FasterXML and parses TOML 1.0 into the same {@code JsonNode} tree the JSON code uses.
 * Environment and flag values are parsed as TOML values too ({@code 7420}, {@code true},
 * {@code ["a", "b"]}, {@code [{name = "tb", address = "169.254.3.7"}]}); a value that is
 * not valid TOML is taken as a plain string, and for list keys split on commas, so
 * {@code THUNDERLINK_TRANSPORT_KIND=epoll} and {@code THUNDERLINK_HOST_LISTEN=a,b} work.
 *
 * <p>Every problem is collected, then reported together in one {@link ConfigException};
 * unknown keys in the file only warn, so a config written for a newer release still starts.
 * Stateless; any thread.
 */
public final class ConfigLoader {
  public static final String FILE_NAME = "config.toml";
  private static final TomlMapper TOML = new TomlMapper();
  private static final ObjectMapper JSON = new ObjectMapper();

  private ConfigLoader() {}

  /** Loads with the process environment and no flags. */
  public static LoadedConfig load(Path home) {
    return load(home, System.getenv(), Map.of());
  }

  /**
   * Loads the effective configuration.
   *
   * @param home the daemon home; {@code home/config.toml} is optional, a missing home means defaults
   * @param env the environment (normally {@link System#getenv()})
   * @param flags values given on the command line, by setting key (e.g. {@code "host.port" -> 7421},
   *     {@code "host.listen" -> List.of("127.0.0.1")}); a String is parsed like an environment value
   * @throws ConfigException listing every bad value, each with its key, value, expectation and source
   */
  public static LoadedConfig load(Path home, Map<String, String> env, Map<String, ?> flags) {
    List<String> problems = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    Path file = home.toAbsolutePath().normalize().resolve(FILE_NAME);
    JsonNode tree = readFile(home, file, problems);
    boolean fileExists = tree != null;
    if (tree == null) {
      tree = Setting.NODES.objectNode();
    }
    warnUnknown(tree, "", file, warnings);
    warnUnknownEnvironment(env, warnings);
    for (String k : flags.keySet()) {
      if (!Settings.ALL.containsKey(k)) {
        problems.add(k + ": unknown key (expected: a key listed by `thunderlink config show`) [flag]");
      }
    }

    Map<String, Object> values = new LinkedHashMap<>();
    Map<String, String> where = new LinkedHashMap<>();
    List<EffectiveValue> effective = new ArrayList<>();
    for (Setting<?> s : Settings.ALL.values()) {
      JsonNode raw;
      ConfigSource source;
      String origin;
      if (flags.containsKey(s.key)) {
        Object f = flags.get(s.key);
        raw = f instanceof String str ? fromText(str, s.list) : JSON.valueToTree(f);
        source = ConfigSource.FLAG;
        origin = "flag";
      } else if (env.containsKey(s.environmentName())) {
        raw = fromText(env.get(s.environmentName()), s.list);
        source = ConfigSource.ENVIRONMENT;
        origin = s.environmentName();
      } else if (at(tree, s.key) != null) {
        raw = at(tree, s.key);
        source = ConfigSource.FILE;
        origin = file.toString();
      } else {
        raw = s.defaultNode;
        source = ConfigSource.DEFAULT;
        origin = "built-in";
      }
      String suffix = " [" + source.label() + (source == ConfigSource.DEFAULT || source == ConfigSource.FLAG ? "" : " " + origin) + "]";
      where.put(s.key, suffix);
      List<String> unknown = new ArrayList<>();
      try {
        values.put(s.key, s.parser.parse(raw, unknown));
        effective.add(new EffectiveValue(s.key, raw, source, origin));
      } catch (Setting.Invalid e) {
        problems.add(s.key + e.subKey + ": " + render(e.value) + " (expected: " + e.expected + ")" + suffix);
      }
      for (String u : unknown) {
        warnings.add("unknown key " + s.key + u + " ignored" + suffix);
      }
    }
    ThunderlinkConfig config = problems.isEmpty() ? Settings.toConfig(values, where, problems) : null;
    if (!problems.isEmpty()) {
      throw new ConfigException(problems, warnings);
    }
    return new LoadedConfig(config, file, fileExists, effective, warnings);
  }

  /** The file as a tree, or null when there is none; unreadable or malformed files are problems. */
  private static JsonNode readFile(Path home, Path file, List<String> problems) {
    if (Files.exists(home) && !Files.isDirectory(home)) {
      problems.add("home: " + home + " (expected: a directory; pass another --home or THUNDERLINK_HOME)");
      return null;
    }
    if (!Files.exists(file)) {
      return null;
    }
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      return null;
    } catch (AccessDeniedException e) {
      problems.add(file + ": cannot read (permission denied)");
      return null;
    } catch (IOException e) {
      problems.add(file + ": cannot read (" + (Files.isDirectory(file) ? "it is a directory" : e.getMessage()) + ")");
      return null;
    }
    try {
      JsonNode n = TOML.readTree(text);
      return n == null ? Setting.NODES.objectNode() : n;
    } catch (JsonProcessingException e) {
      JsonLocation loc = e.getLocation();
      problems.add(
          file + (loc != null && loc.getLineNr() > 0 ? ":" + loc.getLineNr() + ":" + loc.getColumnNr() : "")
              + ": not valid TOML (" + e.getOriginalMessage() + ")");
      return null;
    }
  }

  /** Warns about every key of the file that is not in the schema (a whole unknown table once). */
  private static void warnUnknown(JsonNode node, String prefix, Path file, List<String> warnings) {
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = prefix + e.getKey();
      if (Settings.ALL.containsKey(key)) {
        continue;
      }
      boolean isTable = Settings.ALL.keySet().stream().anyMatch(k -> k.startsWith(key + "."));
      if (isTable && e.getValue().isObject()) {
        warnUnknown(e.getValue(), key + ".", file, warnings);
      } else {
        warnings.add("unknown key " + key + " ignored [file " + file + "]");
      }
    }
  }

  /**
   * Variables that are not settings but are read elsewhere (DaemonHome, the service definition,
   * the ./thunderlink launcher, which passes its environment on to the daemon it starts).
   */
  private static final java.util.Set<String> OTHER_VARIABLES = java.util.Set.of(
      "THUNDERLINK_HOME", "THUNDERLINK_SERVICE", "THUNDERLINK_JAVA_OPTS",
      "THUNDERLINK_DAEMON_JVM_OPTS", "THUNDERLINK_CLI_JVM_OPTS", "THUNDERLINK_JAR", "THUNDERLINK_LAUNCHER");

  /** A typo in a THUNDERLINK_* variable would otherwise be ignored without a word. */
  private static void warnUnknownEnvironment(Map<String, String> env, List<String> warnings) {
    java.util.Set<String> known = new java.util.HashSet<>(OTHER_VARIABLES);
    Settings.ALL.values().forEach(s -> known.add(s.environmentName()));
    env.keySet().stream()
        .filter(k -> k.startsWith("THUNDERLINK_") && !known.contains(k))
        .sorted()
        .forEach(k -> warnings.add("unknown environment variable " + k + " ignored (expected: THUNDERLINK_<KEY>, e.g. THUNDERLINK_METRICS_PORT)"));
  }

  private static JsonNode at(JsonNode tree, String dotted) {
    JsonNode n = tree;
    for (String part : dotted.split("\\.")) {
      n = n.get(part);
      if (n == null) {
        return null;
      }
    }
    return n;
  }

  /** An environment or flag value: a TOML value if it parses as one, else a string (split on commas for lists). */
  static JsonNode fromText(String text, boolean list) {
    try {
      JsonNode n = TOML.readTree("v = " + text + "\n").get("v");
      if (n != null) {
        return list && !n.isArray() ? Setting.NODES.arrayNode().add(n) : n;
      }
    } catch (JsonProcessingException e) {
      // not a TOML value: a bare string
    }
    if (list) {
      ArrayNode a = Setting.NODES.arrayNode();
      for (String part : text.split(",")) {
        if (!part.isBlank()) {
          a.add(part.trim());
        }
      }
      return a;
    }
    return Setting.NODES.textNode(text);
  }

  /** A value as a user would write it in TOML, for error messages. */
  static String render(JsonNode n) {
    if (n == null) {
      return "(missing)";
    }
    return TomlValues.render(n);
  }
}
