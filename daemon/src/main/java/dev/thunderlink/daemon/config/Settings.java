package dev.thunderlink.daemon.config;

import static dev.thunderlink.daemon.config.Setting.NODES;
import static dev.thunderlink.daemon.config.Setting.field;
import static dev.thunderlink.daemon.config.Setting.intRange;
import static dev.thunderlink.daemon.config.Setting.listOf;
import static dev.thunderlink.daemon.config.Setting.longRange;
import static dev.thunderlink.daemon.config.Setting.strings;
import static dev.thunderlink.daemon.config.Setting.table;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thunderlink.daemon.config.Setting.Invalid;
import dev.thunderlink.daemon.config.Setting.Parser;
import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.TuningProfile;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The schema of {@code config.toml}: every key, its default and its check, in the order
 * {@code config show} prints them, and how the checked values become a {@link ThunderlinkConfig}.
 */
final class Settings {
  private Settings() {}

  static final Set<String> TRANSPORTS = Set.of("auto", "kqueue", "epoll", "io-uring", "nio");
  static final int MAX_PORT = 65535;

  /** The tuning fields, snake_case as in the file, in TuningProfile's order. */
  static final List<String> TUNING_FIELDS =
      List.of(
          "send_buffer_bytes",
          "receive_buffer_bytes",
          "write_buffer_low_water_mark",
          "write_buffer_high_water_mark",
          "flow_control_window_bytes",
          "tcp_no_delay",
          "probe_interval_ms",
          "probe_deadline_ms",
          "missed_probes_to_down");

  static final Map<String, Setting<?>> ALL = build();

  private static Map<String, Setting<?>> build() {
    Map<String, Setting<?>> m = new LinkedHashMap<>();
    // the name this machine goes by in conflict copies' names, events and the peer's lists
    // (empty: its host name); one per home, so two daemons on one machine (the demo) differ
    add(m, "device.name", NODES.textNode(""), Setting.text("a name of 1-64 of [A-Za-z0-9._-], starting alphanumeric,"
        + " or empty for the host name", s -> s.isEmpty() || ThunderlinkConfig.Device.NAME.matcher(s).matches()), false);
    add(m, "host.listen", strings("0.0.0.0"), listOf("addresses HOST[:PORT]", Settings::hostPort), true);
    add(m, "host.port", NODES.numberNode(LinkPath.DEFAULT_PORT), intRange(1, MAX_PORT), false);
    add(m, "workstation.paths", NODES.arrayNode(), listOf("tables {name, address, kind}", Settings::path), false);
    add(m, "workstation.discover", NODES.booleanNode(isMac()), Setting.BOOL, false);
    add(m, "transport.kind", NODES.textNode("auto"), Setting.oneOf("auto", "kqueue", "epoll", "io-uring", "nio"), false);
    for (PathKind kind : PathKind.values()) {
      TuningProfile d = TuningProfile.defaults(kind);
      String p = "tuning." + kind.cliName() + ".";
      add(m, p + "send_buffer_bytes", NODES.numberNode(d.sendBufferBytes()), intRange(0, Integer.MAX_VALUE), false);
      add(m, p + "receive_buffer_bytes", NODES.numberNode(d.receiveBufferBytes()), intRange(0, Integer.MAX_VALUE), false);
      add(m, p + "write_buffer_low_water_mark", NODES.numberNode(d.writeBufferLowWaterMark()), intRange(1, Integer.MAX_VALUE), false);
      add(m, p + "write_buffer_high_water_mark", NODES.numberNode(d.writeBufferHighWaterMark()), intRange(1, Integer.MAX_VALUE), false);
      add(m, p + "flow_control_window_bytes", NODES.numberNode(d.flowControlWindowBytes()), intRange(65535, Integer.MAX_VALUE), false);
      add(m, p + "tcp_no_delay", NODES.booleanNode(d.tcpNoDelay()), Setting.BOOL, false);
      add(m, p + "probe_interval_ms", NODES.numberNode(d.probeIntervalMillis()), intRange(1, 3_600_000), false);
      add(m, p + "probe_deadline_ms", NODES.numberNode(d.probeDeadlineMillis()), intRange(1, 3_600_000), false);
      add(m, p + "missed_probes_to_down", NODES.numberNode(d.missedProbesToDown()), intRange(1, 1000), false);
    }
    add(m, "bulk.encrypt_on_thunderbolt", NODES.booleanNode(false), Setting.BOOL, false);
    add(m, "bulk.permitted_roots", NODES.arrayNode(), listOf("absolute directories", Settings::absolutePath), true);
    add(m, "bulk.digest", NODES.textNode("auto"), Setting.oneOf("auto", "xxh3-128", "sha256"), false);
    add(m, "bulk.disk_threads", NODES.numberNode(0), intRange(0, dev.thunderlink.transport.bulk.BulkConfig.MAX_DISK_THREADS), false);
    add(m, "inference.api_port", NODES.numberNode(11434), intRange(1, MAX_PORT), false);
    add(m, "inference.host_api_port", NODES.numberNode(11435), intRange(1, MAX_PORT), false);
    ArrayNode upstreams = NODES.arrayNode();
    upstreams.addObject().put("name", "ollama").put("url", "http://127.0.0.1:11434").put("kind", "ollama").set("models", NODES.arrayNode());
    add(m, "inference.upstreams", upstreams, listOf("tables {name, url, kind, models, model_sizes}", Settings::upstream), false);
    add(m, "inference.scheduler.max_loaded_models", NODES.numberNode(2), intRange(1, 64), false);
    add(m, "inference.scheduler.memory_bytes", NODES.numberNode(48L << 30), longRange(1L << 20, Long.MAX_VALUE), false);
    ArrayNode classes = NODES.arrayNode();
    for (ThunderlinkConfig.PriorityClass c : List.of(ThunderlinkConfig.Inference.INTERACTIVE, ThunderlinkConfig.Inference.BATCH)) {
      classes.addObject().put("name", c.name()).put("priority", c.priority()).put("aging_s", c.agingSeconds());
    }
    add(m, "inference.classes", classes, listOf("tables {name, priority, aging_s}", Settings::priorityClass), false);
    add(m, "inference.warmup", NODES.booleanNode(true), Setting.BOOL, false);
    // the mirror, both daemons: FSEvents' latency on macOS (its own default, 0.5 s, would add
    // half a second to every edit), the periodic full rescan (0: none), and the ignore rules
    // every session has before its own (.DS_Store and the daemon's temporary files are always
    // ignored; ._* are the AppleDouble files macOS writes on volumes without extended attributes)
    add(m, "sync.watcher_latency_ms", NODES.numberNode(10), intRange(0, 60_000), false);
    add(m, "sync.rescan_interval_s", NODES.numberNode(600), intRange(0, 86_400), false);
    add(m, "sync.ignores", strings(".DS_Store", "._*"), listOf("ignore rules in .gitignore syntax", Settings::nonEmpty), true);
    // the safety stop for mass deletions: a plan that would delete at least this percentage of
    // a side's entries, or leave it that much below the most it had within a minute, halts the
    // session until `sync resume --force`, when that is more than the minimum (100: only the
    // deletion of everything halts; the deletion of a root halts whatever these say)
    add(m, "sync.mass_deletion_percent", NODES.numberNode(50), intRange(1, 100), false);
    add(m, "sync.mass_deletion_min_entries", NODES.numberNode(20), intRange(0, Integer.MAX_VALUE), false);
    add(m, "service.shutdown_grace_s", NODES.numberNode(10), intRange(0, 600), false);
    add(m, "metrics.port", NODES.numberNode(9464), intRange(0, MAX_PORT), false);
    return java.util.Collections.unmodifiableMap(m);
  }

  private static <T> void add(Map<String, Setting<?>> m, String key, JsonNode def, Parser<T> parser, boolean list) {
    m.put(key, new Setting<>(key, def, parser, list));
  }

  static boolean isMac() {
    return System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("mac");
  }

  // ---- item parsers -----------------------------------------------------------------

  static String nonEmpty(JsonNode n, List<String> unknown) throws Invalid {
    if (n == null || !n.isTextual() || n.textValue().isBlank()) {
      throw new Invalid(n, "a non-empty string");
    }
    return n.textValue();
  }

  /** Checked with port 1 only for its syntax; {@link #toConfig} applies {@code host.port}. */
  static String hostPort(JsonNode n, List<String> unknown) throws Invalid {
    String s = nonEmpty(n, unknown);
    try {
      LinkPath.parseHostPort(s, 1, "address");
    } catch (IllegalArgumentException e) {
      throw new Invalid(n, "HOST[:PORT], e.g. 0.0.0.0 or 169.254.3.7:7420");
    }
    return s;
  }

  static Path absolutePath(JsonNode n, List<String> unknown) throws Invalid {
    String s = nonEmpty(n, unknown);
    if (s.startsWith("~/")) {
      s = System.getProperty("user.home") + s.substring(1);
    }
    try {
      Path p = Path.of(s);
      if (!p.isAbsolute()) {
        throw new Invalid(n, "an absolute path (or ~/...)");
      }
      return p.normalize();
    } catch (InvalidPathException e) {
      throw new Invalid(n, "a path");
    }
  }

  static LinkPath path(JsonNode n, List<String> unknown) throws Invalid {
    ObjectNode t = table(n, "a table {name, address, kind}", Set.of("name", "address", "kind"), unknown);
    String name = sub(".name", Settings::nonEmpty, field(t, "name", true));
    String address = sub(".address", Settings::nonEmpty, field(t, "address", true));
    JsonNode kindNode = field(t, "kind", false);
    InetSocketAddress a;
    try {
      a = LinkPath.parseHostPort(address, LinkPath.DEFAULT_PORT, "address");
    } catch (IllegalArgumentException e) {
      throw new Invalid(".address", t.get("address"), "HOST[:PORT], e.g. 169.254.3.7:7420");
    }
    PathKind kind;
    if (kindNode == null) {
      kind = PathKind.infer(name, a.getAddress());
    } else {
      try {
        kind = PathKind.parse(kindNode.isTextual() ? kindNode.textValue() : "?");
      } catch (IllegalArgumentException e) {
        throw new Invalid(".kind", kindNode, Setting.expectedOf(e));
      }
    }
    try {
      return new LinkPath(name, a, kind);
    } catch (IllegalArgumentException e) {
      throw new Invalid(".name", t.get("name"), Setting.expectedOf(e));
    }
  }

  static ThunderlinkConfig.Upstream upstream(JsonNode n, List<String> unknown) throws Invalid {
    ObjectNode t = table(n, "a table {name, url, kind, models, model_sizes}",
        Set.of("name", "url", "kind", "models", "model_sizes"), unknown);
    String name = sub(".name", Settings::nonEmpty, field(t, "name", true));
    JsonNode urlNode = field(t, "url", true);
    URI url;
    try {
      url = new URI(sub(".url", Settings::nonEmpty, urlNode));
      if (!("http".equals(url.getScheme()) || "https".equals(url.getScheme())) || url.getHost() == null) {
        throw new URISyntaxException(url.toString(), "not http");
      }
    } catch (URISyntaxException e) {
      throw new Invalid(".url", urlNode, "an http:// or https:// URL with a host");
    }
    String kind = sub(".kind", Setting.oneOf("ollama", "openai"), t.has("kind") ? t.get("kind") : NODES.textNode("ollama"));
    List<String> models =
        sub(".models", listOf("model names", Settings::nonEmpty), t.has("models") ? t.get("models") : NODES.arrayNode());
    java.util.Map<String, Long> sizes = new java.util.LinkedHashMap<>();
    if (t.has("model_sizes")) {
      JsonNode ms = t.get("model_sizes");
      if (!ms.isObject()) {
        throw new Invalid(".model_sizes", ms, "a table of model name = bytes");
      }
      for (var it = ms.fields(); it.hasNext(); ) {
        var e = it.next();
        sizes.put(e.getKey(), sub(".model_sizes.\"" + e.getKey() + "\"", longRange(1, Long.MAX_VALUE), e.getValue()));
      }
    }
    return new ThunderlinkConfig.Upstream(name, url, kind, models, sizes);
  }

  static ThunderlinkConfig.PriorityClass priorityClass(JsonNode n, List<String> unknown) throws Invalid {
    ObjectNode t = table(n, "a table {name, priority, aging_s}", Set.of("name", "priority", "aging_s"), unknown);
    String name = sub(".name", Settings::nonEmpty, field(t, "name", true));
    int priority = sub(".priority", intRange(0, 100), field(t, "priority", true));
    int aging = sub(".aging_s", intRange(0, 86_400), t.has("aging_s") ? t.get("aging_s") : NODES.numberNode(0));
    return new ThunderlinkConfig.PriorityClass(name, priority, aging);
  }

  /** Runs a parser on a field, putting the field's name into the error's key. */
  private static <T> T sub(String subKey, Parser<T> p, JsonNode n) throws Invalid {
    try {
      return p.parse(n, new ArrayList<>());
    } catch (Invalid e) {
      throw new Invalid(subKey + e.subKey, e.value, e.expected);
    }
  }

  // ---- assembly ---------------------------------------------------------------------

  /**
   * Builds the config from checked values (every key present) and runs the cross-key
   * checks; each failure is added to {@code problems} as {@code key: value (expected: ...)}.
   */
  @SuppressWarnings("unchecked")
  static ThunderlinkConfig toConfig(Map<String, Object> v, Map<String, String> where, List<String> problems) {
    int port = (Integer) v.get("host.port");
    List<InetSocketAddress> listen = new ArrayList<>();
    for (String s : (List<String>) v.get("host.listen")) {
      listen.add(LinkPath.parseHostPort(s, port, "host.listen"));
    }
    if (listen.isEmpty()) {
      problems.add("host.listen: [] (expected: at least one address)" + where.get("host.listen"));
    }
    List<LinkPath> paths = (List<LinkPath>) v.get("workstation.paths");
    unique("workstation.paths", paths.stream().map(LinkPath::name).toList(), where, problems);

    Map<PathKind, TuningProfile> tuning = new EnumMap<>(PathKind.class);
    for (PathKind kind : PathKind.values()) {
      String p = "tuning." + kind.cliName() + ".";
      int low = (Integer) v.get(p + "write_buffer_low_water_mark");
      int high = (Integer) v.get(p + "write_buffer_high_water_mark");
      if (high < low) {
        problems.add(
            p + "write_buffer_high_water_mark: " + high + " (expected: >= " + low + ", " + p
                + "write_buffer_low_water_mark)" + where.get(p + "write_buffer_high_water_mark"));
        continue;
      }
      int interval = (Integer) v.get(p + "probe_interval_ms");
      int deadline = (Integer) v.get(p + "probe_deadline_ms");
      tuning.put(
          kind,
          new TuningProfile(
              kind,
              (Integer) v.get(p + "send_buffer_bytes"),
              (Integer) v.get(p + "receive_buffer_bytes"),
              low,
              high,
              (Integer) v.get(p + "flow_control_window_bytes"),
              (Boolean) v.get(p + "tcp_no_delay"),
              interval,
              deadline,
              (Integer) v.get(p + "missed_probes_to_down")));
    }

    List<ThunderlinkConfig.Upstream> ups = (List<ThunderlinkConfig.Upstream>) v.get("inference.upstreams");
    unique("inference.upstreams", ups.stream().map(ThunderlinkConfig.Upstream::name).toList(), where, problems);
    List<ThunderlinkConfig.PriorityClass> classes = (List<ThunderlinkConfig.PriorityClass>) v.get("inference.classes");
    unique("inference.classes", classes.stream().map(ThunderlinkConfig.PriorityClass::name).toList(), where, problems);
    if (classes.isEmpty()) {
      problems.add("inference.classes: [] (expected: at least one class)" + where.get("inference.classes"));
    }
    // the scheduler knows two classes: interactive (the workstation's fronts and gRPC) before
    // batch (the host's local front for agent crews), which ranks as interactive after aging_s
    for (ThunderlinkConfig.PriorityClass c : classes) {
      if (!c.name().equals("interactive") && !c.name().equals("batch")) {
        problems.add("inference.classes: a class named \"" + c.name() + "\" (expected: interactive and batch, the"
            + " classes the scheduler gives requests: interactive from the workstation, batch from the host's local"
            + " front)" + where.get("inference.classes"));
      }
    }
    ThunderlinkConfig.PriorityClass interactive = ThunderlinkConfig.Inference.classNamed(classes, "interactive");
    ThunderlinkConfig.PriorityClass batch = ThunderlinkConfig.Inference.classNamed(classes, "batch");
    if (interactive.priority() > batch.priority()) {
      problems.add("inference.classes: interactive priority " + interactive.priority() + ", batch " + batch.priority()
          + " (expected: interactive at a lower number than batch; the scheduler serves interactive first)"
          + where.get("inference.classes"));
    }
    if (!problems.isEmpty()) {
      return null;
    }
    return new ThunderlinkConfig(
        new ThunderlinkConfig.Device((String) v.get("device.name")),
        new ThunderlinkConfig.Host(listen, port),
        new ThunderlinkConfig.Workstation(paths, (Boolean) v.get("workstation.discover")),
        new ThunderlinkConfig.Transport((String) v.get("transport.kind")),
        tuning,
        new ThunderlinkConfig.Bulk(
            (Boolean) v.get("bulk.encrypt_on_thunderbolt"), (List<Path>) v.get("bulk.permitted_roots"), (String) v.get("bulk.digest"),
            (Integer) v.get("bulk.disk_threads")),
        new ThunderlinkConfig.Inference(
            (Integer) v.get("inference.api_port"),
            (Integer) v.get("inference.host_api_port"),
            ups,
            (Integer) v.get("inference.scheduler.max_loaded_models"),
            (Long) v.get("inference.scheduler.memory_bytes"),
            classes,
            (Boolean) v.get("inference.warmup")),
        new ThunderlinkConfig.Sync(
            (Integer) v.get("sync.watcher_latency_ms"), (Integer) v.get("sync.rescan_interval_s"), (List<String>) v.get("sync.ignores"),
            (Integer) v.get("sync.mass_deletion_percent"), (Integer) v.get("sync.mass_deletion_min_entries")),
        new ThunderlinkConfig.Service((Integer) v.get("service.shutdown_grace_s")),
        new ThunderlinkConfig.Metrics((Integer) v.get("metrics.port")));
  }

  private static void unique(String key, List<String> names, Map<String, String> where, List<String> problems) {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < names.size(); i++) {
      if (!seen.add(names.get(i))) {
        problems.add(
            key + "[" + i + "].name: \"" + names.get(i) + "\" (expected: a name not used by another entry)" + where.get(key));
      }
    }
  }
}
