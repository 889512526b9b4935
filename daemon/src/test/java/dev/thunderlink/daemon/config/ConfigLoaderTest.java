package dev.thunderlink.daemon.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.TuningProfile;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path home;

  private void write(String toml) throws Exception {
    Files.writeString(home.resolve("config.toml"), toml);
  }

  private LoadedConfig load() {
    return ConfigLoader.load(home, Map.of(), Map.of());
  }

  private ConfigException failure(Map<String, String> env, Map<String, ?> flags) {
    try {
      ConfigLoader.load(home, env, flags);
    } catch (ConfigException e) {
      return e;
    }
    throw new AssertionError("expected a ConfigException");
  }

  @Test
  void noFileMeansDefaultsEverywhere() {
    LoadedConfig c = load();
    assertThat(c.fileExists()).isFalse();
    assertThat(c.values()).allSatisfy(v -> assertThat(v.source()).isEqualTo(ConfigSource.DEFAULT));
    ThunderlinkConfig cfg = c.config();
    assertThat(cfg.host().listen()).containsExactly(new InetSocketAddress("0.0.0.0", LinkPath.DEFAULT_PORT));
    assertThat(cfg.service().shutdownGraceSeconds()).isEqualTo(10);
    assertThat(cfg.metrics().port()).isEqualTo(9464);
    assertThat(cfg.inference().apiPort()).isEqualTo(11434);
    assertThat(cfg.inference().hostApiPort()).isEqualTo(11435);
    assertThat(cfg.inference().warmup()).isTrue();
    for (PathKind k : PathKind.values()) {
      assertThat(cfg.tuning(k)).isEqualTo(TuningProfile.defaults(k));
    }
    assertThat(c.warnings()).isEmpty();
  }

  @Test
  void missingHomeMeansDefaults() {
    LoadedConfig c = ConfigLoader.load(home.resolve("does/not/exist"), Map.of(), Map.of());
    assertThat(c.fileExists()).isFalse();
    assertThat(c.config().host().port()).isEqualTo(LinkPath.DEFAULT_PORT);
  }

  @Test
  void everySectionIsReadFromTheFile() throws Exception {
    write(
        """
        [host]
        listen = ["127.0.0.1", "169.254.3.1:7500"]
        port = 7421

        [workstation]
        discover = false
        paths = [
          { name = "tb", address = "169.254.3.7:7420" },
          { name = "wifi", address = "192.168.1.20", kind = "wifi" },
        ]

        [transport]
        kind = "nio"

        [tuning.wifi]
        send_buffer_bytes = 1048576
        tcp_no_delay = false

        [bulk]
        encrypt_on_thunderbolt = true
        permitted_roots = ["/srv/projects"]
        digest = "sha256"

        [inference]
        api_port = 11500
        upstreams = [
          { name = "ollama", url = "http://127.0.0.1:11434", kind = "ollama" },
          { name = "mlx", url = "http://127.0.0.1:8080/v1", kind = "openai", models = ["qwen3-coder"], model_sizes = { "qwen3-coder" = 18000000000 } },
        ]
        classes = [ { name = "interactive", priority = 0 }, { name = "batch", priority = 5, aging_s = 20 } ]
        warmup = false

        [inference.scheduler]
        max_loaded_models = 1
        memory_bytes = 34359738368

        [sync]
        watcher_latency_ms = 20
        rescan_interval_s = 300
        ignores = ["target/", "*.o"]
        mass_deletion_percent = 90
        mass_deletion_min_entries = 200

        [service]
        shutdown_grace_s = 3

        [metrics]
        port = 0
        """);
    LoadedConfig c = load();
    ThunderlinkConfig cfg = c.config();
    assertThat(c.warnings()).isEmpty();
    assertThat(cfg.host().listen())
        .containsExactly(new InetSocketAddress("127.0.0.1", 7421), new InetSocketAddress("169.254.3.1", 7500));
    assertThat(cfg.workstation().discover()).isFalse();
    assertThat(cfg.workstation().paths())
        .containsExactly(
            new LinkPath("tb", new InetSocketAddress("169.254.3.7", 7420), PathKind.THUNDERBOLT),
            new LinkPath("wifi", new InetSocketAddress("192.168.1.20", 7420), PathKind.WIFI));
    assertThat(cfg.transport().kind()).isEqualTo("nio");
    TuningProfile wifi = cfg.tuning(PathKind.WIFI);
    assertThat(wifi.sendBufferBytes()).isEqualTo(1048576);
    assertThat(wifi.tcpNoDelay()).isFalse();
    assertThat(wifi.receiveBufferBytes()).isEqualTo(TuningProfile.defaults(PathKind.WIFI).receiveBufferBytes());
    assertThat(cfg.tuning(PathKind.THUNDERBOLT)).isEqualTo(TuningProfile.defaults(PathKind.THUNDERBOLT));
    assertThat(cfg.bulk().encryptOnThunderbolt()).isTrue();
    assertThat(cfg.bulk().permittedRoots()).containsExactly(Path.of("/srv/projects"));
    assertThat(cfg.bulk().digest()).isEqualTo("sha256");
    assertThat(cfg.inference().apiPort()).isEqualTo(11500);
    assertThat(cfg.inference().upstreams())
        .containsExactly(
            new ThunderlinkConfig.Upstream("ollama", URI.create("http://127.0.0.1:11434"), "ollama", List.of()),
            new ThunderlinkConfig.Upstream("mlx", URI.create("http://127.0.0.1:8080/v1"), "openai", List.of("qwen3-coder"),
                Map.of("qwen3-coder", 18_000_000_000L)));
    assertThat(cfg.inference().classes())
        .containsExactly(
            new ThunderlinkConfig.PriorityClass("interactive", 0, 0), new ThunderlinkConfig.PriorityClass("batch", 5, 20));
    // the batch class's aging reaches the host's scheduler
    assertThat(cfg.inference().batchAging()).isEqualTo(java.time.Duration.ofSeconds(20));
    assertThat(dev.thunderlink.daemon.internal.InferenceSetup.host(cfg.inference(), true).scheduler().agingAfter())
        .isEqualTo(java.time.Duration.ofSeconds(20));
    assertThat(cfg.inference().maxLoadedModels()).isEqualTo(1);
    assertThat(cfg.inference().memoryBytes()).isEqualTo(34359738368L);
    assertThat(cfg.inference().warmup()).isFalse();
    assertThat(cfg.sync()).isEqualTo(new ThunderlinkConfig.Sync(20, 300, List.of("target/", "*.o"), 90, 200));
    // what the workstation daemon hands every mirror session
    assertThat(cfg.sync().sessionDefaults())
        .isEqualTo(new dev.thunderlink.sync.SyncSessions.Defaults(
            java.time.Duration.ofMillis(20), java.time.Duration.ofSeconds(300), List.of("target/", "*.o"), 0.9, 200));
    assertThat(cfg.service().shutdownGraceSeconds()).isEqualTo(3);
    assertThat(cfg.metrics().enabled()).isFalse();
    assertThat(c.value("metrics.port").orElseThrow().source()).isEqualTo(ConfigSource.FILE);
    assertThat(c.value("metrics.port").orElseThrow().origin()).isEqualTo(home.resolve("config.toml").toString());
    assertThat(c.value("tuning.wifi.receive_buffer_bytes").orElseThrow().source()).isEqualTo(ConfigSource.DEFAULT);
  }

  @Test
  void priorityClassesAreTheTwoTheSchedulerKnows() throws Exception {
    assertThat(load().config().inference().batchAging()).isEqualTo(java.time.Duration.ofSeconds(30));
    write("[inference]\nclasses = [ { name = \"crew\", priority = 5 } ]\n");
    assertThatThrownBy(this::load).hasMessageContaining("inference.classes: a class named \"crew\" (expected: interactive and batch");
    write("[inference]\nclasses = [ { name = \"interactive\", priority = 20 }, { name = \"batch\", priority = 10 } ]\n");
    assertThatThrownBy(this::load).hasMessageContaining("inference.classes: interactive priority 20, batch 10 (expected:");
    write("[inference]\nclasses = [ { name = \"batch\", priority = 10, aging_s = 5 } ]\n"); // interactive: its default
    assertThat(load().config().inference().batchAging()).isEqualTo(java.time.Duration.ofSeconds(5));
  }

  /** device.name: empty (the host name) by default, a file-name-safe name, from the file or THUNDERLINK_DEVICE_NAME. */
  @Test
  void theDeviceNameIsOptionalAndSafeForFileNames() throws Exception {
    assertThat(load().config().device().nameOrNull()).isNull();
    write("[device]\nname = \"mini\"\n");
    assertThat(load().config().device().nameOrNull()).isEqualTo("mini");
    assertThat(ConfigLoader.load(home, Map.of("THUNDERLINK_DEVICE_NAME", "studio"), Map.of()).config().device().name())
        .isEqualTo("studio");
    write("[device]\nname = \"my mac/book\"\n");
    assertThatThrownBy(this::load).hasMessageContaining("device.name: \"my mac/book\" (expected: a name of 1-64 of [A-Za-z0-9._-],"
        + " starting alphanumeric, or empty for the host name)");
    // the name a home's daemons go by
    write("[device]\nname = \"mini\"\n");
    assertThat(new dev.thunderlink.daemon.DaemonHome(home).identity().deviceName()).isEqualTo("mini");
    // a config that does not load leaves the name a home has without one (its daemon reports the config)
    write("[device]\nname = \"my mac/book\"\n");
    assertThat(new dev.thunderlink.daemon.DaemonHome(home).identity().deviceName())
        .isEqualTo(dev.thunderlink.transport.DeviceIdentity.loadOrCreate(home.resolve("other-identity")).deviceName());
  }

  @Test
  void syncDefaultsAndABadIgnoreRule() throws Exception {
    ThunderlinkConfig.Sync d = load().config().sync();
    assertThat(d).isEqualTo(new ThunderlinkConfig.Sync(10, 600, List.of(".DS_Store", "._*"), 50, 20));
    // the safety stop's defaults are the engine's own
    assertThat(d.sessionDefaults().safetyDeleteFraction())
        .isEqualTo(dev.thunderlink.sync.SyncSessionConfig.DEFAULT_SAFETY_DELETE_FRACTION);
    assertThat(d.sessionDefaults().safetyMinimumEntries())
        .isEqualTo(dev.thunderlink.sync.SyncSessionConfig.DEFAULT_SAFETY_MINIMUM_ENTRIES);
    write("[sync]\nmass_deletion_percent = 0\n");
    assertThatThrownBy(this::load).hasMessageContaining("sync.mass_deletion_percent: 0 (expected:");
    write("[sync]\nmass_deletion_percent = 101\n");
    assertThatThrownBy(this::load).hasMessageContaining("sync.mass_deletion_percent: 101 (expected:");
    write("[sync]\nmass_deletion_min_entries = -1\n");
    assertThatThrownBy(this::load).hasMessageContaining("sync.mass_deletion_min_entries: -1 (expected:");
    write("[sync]\nignores = [\"*.o\", \"  \"]\nrescan_interval_s = 0\n");
    assertThatThrownBy(this::load).hasMessageContaining("sync.ignores[1]: \"  \" (expected: a non-empty string)");
    write("[sync]\nignores = [\"*.o\", \"!keep.o\"]\nrescan_interval_s = 0\n");
    assertThat(load().config().sync().sessionDefaults().rescanInterval()).isZero(); // 0: no periodic rescan
  }

  @Test
  void flagBeatsEnvironmentBeatsFileBeatsDefault() throws Exception {
    write("[metrics]\nport = 9000\n[host]\nport = 7000\n[service]\nshutdown_grace_s = 4\n");
    Map<String, String> env =
        Map.of("THUNDERLINK_METRICS_PORT", "9100", "THUNDERLINK_HOST_PORT", "7100", "THUNDERLINK_TRANSPORT_KIND", "epoll");
    LoadedConfig c = ConfigLoader.load(home, env, Map.of("metrics.port", 9200));
    assertThat(c.config().metrics().port()).isEqualTo(9200);
    assertThat(c.value("metrics.port").orElseThrow().source()).isEqualTo(ConfigSource.FLAG);
    assertThat(c.config().host().port()).isEqualTo(7100);
    assertThat(c.value("host.port").orElseThrow().source()).isEqualTo(ConfigSource.ENVIRONMENT);
    assertThat(c.value("host.port").orElseThrow().origin()).isEqualTo("THUNDERLINK_HOST_PORT");
    assertThat(c.config().transport().kind()).isEqualTo("epoll");
    assertThat(c.config().service().shutdownGraceSeconds()).isEqualTo(4);
    assertThat(c.value("service.shutdown_grace_s").orElseThrow().source()).isEqualTo(ConfigSource.FILE);
    assertThat(c.value("sync.rescan_interval_s").orElseThrow().source()).isEqualTo(ConfigSource.DEFAULT);
  }

  @Test
  void environmentListsAndTablesParse() {
    Map<String, String> env =
        Map.of(
            "THUNDERLINK_HOST_LISTEN", "127.0.0.1:7001,127.0.0.2",
            "THUNDERLINK_WORKSTATION_PATHS", "[{ name = \"tb\", address = \"169.254.9.9\" }]",
            "THUNDERLINK_BULK_ENCRYPT_ON_THUNDERBOLT", "true");
    ThunderlinkConfig c = ConfigLoader.load(home, env, Map.of("sync.ignores", List.of("a", "b"))).config();
    assertThat(c.host().listen())
        .containsExactly(new InetSocketAddress("127.0.0.1", 7001), new InetSocketAddress("127.0.0.2", LinkPath.DEFAULT_PORT));
    assertThat(c.workstation().paths()).extracting(LinkPath::kind).containsExactly(PathKind.THUNDERBOLT);
    assertThat(c.bulk().encryptOnThunderbolt()).isTrue();
    assertThat(c.sync().ignores()).containsExactly("a", "b");
  }

  @Test
  void unknownBulkDigestIsNamedWithTheThreeChoices() throws Exception {
    write("[bulk]\ndigest = \"md5\"\n");
    ConfigException e = failure(Map.of(), Map.of());
    assertThat(e.problems()).singleElement().asString().startsWith("bulk.digest: ").contains("md5").contains("auto")
        .contains("xxh3-128").contains("sha256");
  }

  @Test
  void bulkDiskThreadsDefaultsToOnePerCoreAndRefusesTooMany() throws Exception {
    write("");
    ThunderlinkConfig c = ConfigLoader.load(home, Map.of(), Map.of()).config();
    assertThat(c.bulk().diskThreads()).isZero();
    assertThat(c.bulk().diskThreadsOrDefault())
        .isEqualTo(Math.min(4, Runtime.getRuntime().availableProcessors()))
        .isEqualTo(dev.thunderlink.transport.bulk.BulkConfig.defaults(List.of()).diskThreads());
    write("[bulk]\ndisk_threads = 3\n");
    assertThat(ConfigLoader.load(home, Map.of(), Map.of()).config().bulk().diskThreadsOrDefault()).isEqualTo(3);
    write("[bulk]\ndisk_threads = 99\n");
    ConfigException e = failure(Map.of(), Map.of());
    assertThat(e.problems()).singleElement().asString().startsWith("bulk.disk_threads: 99").contains("16");
  }

  @Test
  void outOfRangeValueNamesKeyValueAndExpectation() throws Exception {
    write("[tuning.wifi]\nsend_buffer_bytes = -1\n");
    ConfigException e = failure(Map.of(), Map.of());
    assertThat(e.problems())
        .singleElement()
        .asString()
        .startsWith("tuning.wifi.send_buffer_bytes: -1 (expected: >= 0)")
        .contains("[file " + home.resolve("config.toml") + "]");
  }

  @Test
  void wrongTypesAreReportedAllAtOnce() throws Exception {
    write(
        """
        [host]
        port = "seventy"
        [workstation]
        discover = "yes"
        [inference]
        warmup = "off"
        [metrics]
        port = 1.5
        [sync]
        ignores = "target/"
        """);
    ConfigException e = failure(Map.of(), Map.of());
    assertThat(e.problems())
        .anySatisfy(p -> assertThat(p).startsWith("host.port: \"seventy\" (expected: an integer 1-65535)"))
        .anySatisfy(p -> assertThat(p).startsWith("workstation.discover: \"yes\" (expected: true or false)"))
        .anySatisfy(p -> assertThat(p).startsWith("metrics.port: 1.5 (expected: an integer 0-65535)"))
        .anySatisfy(p -> assertThat(p).startsWith("sync.ignores: \"target/\" (expected: a list of ignore rules in .gitignore syntax)"))
        .anySatisfy(p -> assertThat(p).startsWith("inference.warmup: \"off\" (expected: true or false)"))
        .hasSize(5);
  }

  @Test
  void outOfRangeFromEnvironmentNamesTheVariable() {
    ConfigException e = failure(Map.of("THUNDERLINK_METRICS_PORT", "70000"), Map.of());
    assertThat(e.problems()).containsExactly("metrics.port: 70000 (expected: 0-65535) [environment THUNDERLINK_METRICS_PORT]");
  }

  @Test
  void badFlagValueAndUnknownFlagKey() {
    ConfigException e = failure(Map.of(), Map.of("service.shutdown_grace_s", "-3", "no.such", "1"));
    assertThat(e.problems())
        .containsExactlyInAnyOrder(
            "service.shutdown_grace_s: -3 (expected: 0-600) [flag]",
            "no.such: unknown key (expected: a key listed by `thunderlink config show`) [flag]");
  }

  @Test
  void badEntriesInsideTablesNameTheField() throws Exception {
    write(
        """
        [workstation]
        paths = [ { name = "tb", address = "169.254.3.7" }, { name = "x", address = "not a host:99999" } ]
        [inference]
        upstreams = [ { name = "o", url = "ftp://example", kind = "ollama" } ]
        classes = [ { name = "a", priority = 500 } ]
        """);
    ConfigException e = failure(Map.of(), Map.of());
    assertThat(e.problems())
        .anySatisfy(p -> assertThat(p).startsWith("workstation.paths[1].address: \"not a host:99999\" (expected: HOST[:PORT]"))
        .anySatisfy(p -> assertThat(p).startsWith("inference.upstreams[0].url: \"ftp://example\" (expected: an http:// or https:// URL"))
        .anySatisfy(p -> assertThat(p).startsWith("inference.classes[0].priority: 500 (expected: 0-100)"));
  }

  @Test
  void aModelSizeBelowOneByteNamesTheModel() throws Exception {
    write(
        """
        [inference]
        upstreams = [ { name = "m", url = "http://127.0.0.1:8080", kind = "openai", model_sizes = { "q:7b" = 0 } } ]
        """);
    assertThat(failure(Map.of(), Map.of()).problems())
        .anySatisfy(p -> assertThat(p).startsWith("inference.upstreams[0].model_sizes.\"q:7b\": 0 (expected: "));
    write(
        """
        [inference]
        upstreams = [ { name = "m", url = "http://127.0.0.1:8080", kind = "openai", model_sizes = ["q:7b"] } ]
        """);
    assertThat(failure(Map.of(), Map.of()).problems())
        .anySatisfy(p -> assertThat(p).startsWith("inference.upstreams[0].model_sizes: [\"q:7b\"] (expected: a table of model name = bytes"));
  }

  @Test
  void crossKeyChecksNameBothKeys() throws Exception {
    write(
        """
        [tuning.lan]
        write_buffer_low_water_mark = 2000000
        write_buffer_high_water_mark = 1000000
        [workstation]
        paths = [ { name = "tb", address = "169.254.3.7" }, { name = "tb", address = "169.254.3.8" } ]
        """);
    ConfigException e = failure(Map.of(), Map.of());
    assertThat(e.problems())
        .anySatisfy(
            p -> assertThat(p)
                .startsWith("tuning.lan.write_buffer_high_water_mark: 1000000 (expected: >= 2000000, tuning.lan.write_buffer_low_water_mark)"))
        .anySatisfy(p -> assertThat(p).startsWith("workstation.paths[1].name: \"tb\" (expected: a name not used by another entry)"));
  }

  @Test
  void unknownKeysWarnAndNameThemselves() throws Exception {
    write(
        """
        colour = "blue"
        [host]
        prot = 7420
        [tuning.wifi]
        send_bufer_bytes = 1
        [gizmo]
        a = 1
        [workstation]
        paths = [ { name = "tb", address = "169.254.3.7", speed = "fast" } ]
        """);
    LoadedConfig c = load();
    assertThat(c.warnings())
        .anySatisfy(w -> assertThat(w).startsWith("unknown key colour ignored"))
        .anySatisfy(w -> assertThat(w).startsWith("unknown key host.prot ignored"))
        .anySatisfy(w -> assertThat(w).startsWith("unknown key tuning.wifi.send_bufer_bytes ignored"))
        .anySatisfy(w -> assertThat(w).startsWith("unknown key gizmo ignored"))
        .anySatisfy(w -> assertThat(w).startsWith("unknown key workstation.paths[0].speed ignored"))
        .hasSize(5);
    assertThat(c.config().host().port()).isEqualTo(LinkPath.DEFAULT_PORT);
  }

  @Test
  void misspelledEnvironmentVariableWarns() {
    LoadedConfig c =
        ConfigLoader.load(home, Map.of("THUNDERLINK_METRIC_PORT", "1", "THUNDERLINK_HOME", "/x", "PATH", "/bin"), Map.of());
    assertThat(c.warnings())
        .containsExactly(
            "unknown environment variable THUNDERLINK_METRIC_PORT ignored (expected: THUNDERLINK_<KEY>, e.g. THUNDERLINK_METRICS_PORT)");
    assertThat(c.config().metrics().port()).isEqualTo(9464);
  }

  /** The launcher's own variables reach the daemon it starts: a serve under them warned thrice. */
  @Test
  void theLaunchersVariablesAreNotTakenForMisspelledSettings() {
    LoadedConfig c = ConfigLoader.load(
        home,
        Map.of("THUNDERLINK_JAR", "/x/thunderlink.jar", "THUNDERLINK_CLI_JVM_OPTS", "", "THUNDERLINK_DAEMON_JVM_OPTS", "",
            "THUNDERLINK_JAVA_OPTS", "-Xmx1g", "THUNDERLINK_LAUNCHER", "/x/thunderlink"),
        Map.of());
    assertThat(c.warnings()).isEmpty();
  }

  @Test
  void malformedTomlGivesFileLineAndColumn() throws Exception {
    write("[host]\nport = = 3\n");
    ConfigException e = failure(Map.of(), Map.of());
    assertThat(e.problems()).singleElement().asString().startsWith(home.resolve("config.toml") + ":2:").contains("not valid TOML");
  }

  @Test
  void homeThatIsAFileIsRefused() throws Exception {
    Path file = Files.writeString(home.resolve("plainfile"), "x");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("home: " + file + " (expected: a directory");
  }

  @Test
  void configFileThatIsADirectoryIsRefused() throws Exception {
    Files.createDirectory(home.resolve("config.toml"));
    assertThatThrownBy(this::load)
        .isInstanceOf(ConfigException.class)
        .hasMessage(home.resolve("config.toml") + ": cannot read (it is a directory)");
  }

  @Test
  void unreadableConfigFileIsRefused() throws Exception {
    assumeFalse("root".equals(System.getProperty("user.name")), "running as root: file permissions do not stop reads");
    write("[host]\nport = 7000\n");
    Files.setPosixFilePermissions(home.resolve("config.toml"), PosixFilePermissions.fromString("---------"));
    assertThatThrownBy(this::load).hasMessage(home.resolve("config.toml") + ": cannot read (permission denied)");
  }

  @Test
  void showTextAndJsonCarryValueAndSource() throws Exception {
    write("[metrics]\nport = 9000\n");
    LoadedConfig c = ConfigLoader.load(home, Map.of("THUNDERLINK_HOST_PORT", "7100"), Map.of());
    String text = c.toText();
    assertThat(text).containsPattern("metrics\\.port = 9000 +# file\n");
    assertThat(text).containsPattern("host\\.port = 7100 +# environment THUNDERLINK_HOST_PORT\n");
    assertThat(text).containsPattern("host\\.listen = \\[\"0\\.0\\.0\\.0\"\\] +# default\n");
    var json = c.toJson();
    assertThat(json.at("/settings/metrics.port/value").asInt()).isEqualTo(9000);
    assertThat(json.at("/settings/metrics.port/source").asText()).isEqualTo("file");
    assertThat(json.at("/settings/host.port/origin").asText()).isEqualTo("THUNDERLINK_HOST_PORT");
    assertThat(json.at("/settings").size()).isEqualTo(c.values().size());
  }
}
