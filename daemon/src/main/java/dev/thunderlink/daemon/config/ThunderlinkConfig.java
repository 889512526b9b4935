package dev.thunderlink.daemon.config;

import dev.thunderlink.transport.LinkPath;
import dev.thunderlink.transport.PathKind;
import dev.thunderlink.transport.TuningProfile;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Every setting of a daemon, immutable and validated; read by {@link ConfigLoader} from
 * {@code HOME/config.toml}, the environment and flags. Each section is one TOML table.
 *
 * <p>The records check their own invariants (non-null, copies of collections, cross-field
 * rules) so a config built in code is as valid as one loaded; the loader validates each key
 * first so that its error names the key, the value and what was expected.
 */
public record ThunderlinkConfig(
    Device device,
    Host host,
    Workstation workstation,
    Transport transport,
    Map<PathKind, TuningProfile> tuning,
    Bulk bulk,
    Inference inference,
    Sync sync,
    Service service,
    Metrics metrics) {

  public ThunderlinkConfig {
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(workstation, "workstation");
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(bulk, "bulk");
    Objects.requireNonNull(inference, "inference");
    Objects.requireNonNull(sync, "sync");
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(metrics, "metrics");
    EnumMap<PathKind, TuningProfile> t = new EnumMap<>(PathKind.class);
    for (PathKind k : PathKind.values()) {
      TuningProfile p = tuning.get(k);
      t.put(k, p != null ? p : TuningProfile.defaults(k));
    }
    tuning = Map.copyOf(t);
  }

  /**
   * {@code [device]}: this machine as its peer and its mirror see it.
   *
   * @param name the name in conflict copies' names, events and the peer's lists; empty: the host name
   */
  public record Device(String name) {
    /** What a device name may be: it becomes part of file names (conflict copies). */
    public static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    /** The configured name, or null to take the host name. */
    public String nameOrNull() {
      return name.isEmpty() ? null : name;
    }
  }

  /** The tuning profile for a path kind (the default one unless {@code [tuning.<kind>]} overrides it). */
  public TuningProfile tuning(PathKind kind) {
    return tuning.get(kind);
  }

  /**
   * {@code [host]}: where the host daemon listens.
   *
   * @param listen addresses with ports (a listen entry without a port gets {@code port})
   * @param port the default link port
   */
  public record Host(List<InetSocketAddress> listen, int port) {
    public Host {
      listen = List.copyOf(listen);
      if (listen.isEmpty()) {
        throw new IllegalArgumentException("host.listen: [] (expected: at least one address)");
      }
    }
  }

  /**
   * {@code [workstation]}: how the workstation reaches the host.
   *
   * @param paths named paths to the host; empty means "the addresses recorded when pairing"
   * @param discover also use host addresses learned in the handshake
   */
  public record Workstation(List<LinkPath> paths, boolean discover) {
    public Workstation {
      paths = List.copyOf(paths);
    }

    /**
     * The paths a link of the workstation's takes (the daemon's and {@code cp}'s own): those
     * {@code given} on the command line, else these, else the addresses recorded when pairing
     * with each host among {@code peers} ({@code paired}, {@code paired-2}, ...). Empty if none.
     */
    public List<LinkPath> choose(List<LinkPath> given, java.util.Collection<dev.thunderlink.transport.PairedPeer> peers) {
      if (!given.isEmpty()) {
        return List.copyOf(given);
      }
      if (!paths.isEmpty()) {
        return paths;
      }
      List<LinkPath> out = new java.util.ArrayList<>();
      for (dev.thunderlink.transport.PairedPeer p : peers) {
        if (p.role().equals("host")) {
          int i = 0;
          for (String addr : p.addresses()) {
            InetSocketAddress a = LinkPath.parseHostPort(addr, LinkPath.DEFAULT_PORT, "recorded host address");
            out.add(new LinkPath("paired" + (i++ == 0 ? "" : "-" + i), a, PathKind.infer("", a.getAddress())));
          }
        }
      }
      return out;
    }
  }

  /** {@code [transport]}: {@code auto}, {@code kqueue}, {@code epoll}, {@code io-uring} or {@code nio}. */
  public record Transport(String kind) {
    public Transport {
      Objects.requireNonNull(kind, "kind");
    }
  }

  /**
   * {@code [bulk]}: the bulk file plane.
   *
   * @param encryptOnThunderbolt encrypt bulk data even on a verified Thunderbolt path (off:
   *     plaintext there, so sendfile can be used; integrity rests on content hashes)
   * @param permittedRoots directories a peer may read or write through the bulk plane
   * @param digest the content hash of each file: {@code auto} (XXH3-128 on plaintext Thunderbolt,
   *     SHA-256 under TLS), {@code xxh3-128} or {@code sha256} (also cryptographic on plaintext);
   *     the host's setting applies to every session, both directions
   * @param diskThreads threads per bulk connection that write received files; 0 (the default):
   *     one per core, at most 4 ({@link dev.thunderlink.transport.bulk.BulkConfig#defaultDiskThreads()})
   */
  public record Bulk(boolean encryptOnThunderbolt, List<Path> permittedRoots, String digest, int diskThreads) {
    public Bulk {
      permittedRoots = List.copyOf(permittedRoots);
      dev.thunderlink.transport.bulk.BulkConfig.DigestChoice.parse(digest);
      if (diskThreads < 0 || diskThreads > dev.thunderlink.transport.bulk.BulkConfig.MAX_DISK_THREADS) {
        throw new IllegalArgumentException("bulk.disk_threads: " + diskThreads + " (expected: 0 for one per core, or 1.."
            + dev.thunderlink.transport.bulk.BulkConfig.MAX_DISK_THREADS + ")");
      }
    }

    public Bulk(boolean encryptOnThunderbolt, List<Path> permittedRoots) {
      this(encryptOnThunderbolt, permittedRoots, "auto", 0);
    }

    /** The disk threads to run: the setting, or the default for 0. */
    public int diskThreadsOrDefault() {
      return diskThreads == 0 ? dev.thunderlink.transport.bulk.BulkConfig.defaultDiskThreads() : diskThreads;
    }
  }

  /**
   * An upstream model server on the host. An empty model list means "every model it has";
   * {@code modelSizes} gives the bytes a model takes when loaded, for servers that do not report
   * it (OpenAI-compatible ones), so that the scheduler's memory budget counts it.
   */
  public record Upstream(String name, URI url, String kind, List<String> models, Map<String, Long> modelSizes) {
    public Upstream {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(url, "url");
      Objects.requireNonNull(kind, "kind");
      models = List.copyOf(models);
      modelSizes = Map.copyOf(modelSizes);
    }

    public Upstream(String name, URI url, String kind, List<String> models) {
      this(name, url, kind, models, Map.of());
    }
  }

  /**
   * A scheduler priority class.
   *
   * @param priority lower runs first
   * @param agingSeconds a waiter is promoted one priority level after this long, so nothing starves
   */
  public record PriorityClass(String name, int priority, int agingSeconds) {
    public PriorityClass {
      Objects.requireNonNull(name, "name");
    }
  }

  /**
   * {@code [inference]}: the proxy fronts, the upstreams and the scheduler budget.
   *
   * @param apiPort the workstation's local Ollama/OpenAI/Anthropic front
   * @param hostApiPort the host's local front for its own agents
   * @param maxLoadedModels at most this many models loaded at once
   * @param memoryBytes the memory budget for loaded models
   * @param warmup whether the inference parts warm the JIT up at start, in the background, on a
   *     private loopback pair (no request reaches an upstream; see {@code dev.thunderlink.inference.Warmup})
   */
  public record Inference(
      int apiPort,
      int hostApiPort,
      List<Upstream> upstreams,
      int maxLoadedModels,
      long memoryBytes,
      List<PriorityClass> classes,
      boolean warmup) {
    public Inference {
      upstreams = List.copyOf(upstreams);
      classes = List.copyOf(classes);
    }

    /** How long a batch request waits before it ranks as interactive ({@code aging_s} of the batch class). */
    public java.time.Duration batchAging() {
      return java.time.Duration.ofSeconds(classNamed(classes, "batch").agingSeconds());
    }

    /** The scheduler's two classes as they are unless {@code [inference] classes} sets them. */
    public static final PriorityClass INTERACTIVE = new PriorityClass("interactive", 0, 0);
    public static final PriorityClass BATCH = new PriorityClass("batch", 10, 30);

    /** The class of that name ({@code interactive} or {@code batch}), or its default when the list leaves it out. */
    public static PriorityClass classNamed(List<PriorityClass> classes, String name) {
      for (PriorityClass c : classes) {
        if (c.name().equals(name)) {
          return c;
        }
      }
      return name.equals(INTERACTIVE.name()) ? INTERACTIVE : BATCH;
    }
  }

  /**
   * {@code [sync]}: the mirror.
   *
   * @param watcherLatencyMillis FSEvents' latency on macOS: how long it batches events before
   *     it reports them (both daemons; other systems' watchers report at once)
   * @param rescanIntervalSeconds the periodic full rescan (the backstop when events are lost); 0: none
   * @param ignores ignore rules in .gitignore syntax every session has before its own
   * @param massDeletionPercent the safety stop: a plan deleting at least this percentage of a
   *     side's entries (or leaving it that much below its most within a minute) halts the session
   * @param massDeletionMinEntries ... when that is more than this many entries
   */
  public record Sync(int watcherLatencyMillis, int rescanIntervalSeconds, List<String> ignores, int massDeletionPercent,
      int massDeletionMinEntries) {
    public Sync {
      ignores = List.copyOf(ignores);
    }

    /** What the workstation daemon gives every mirror session. */
    public dev.thunderlink.sync.SyncSessions.Defaults sessionDefaults() {
      return new dev.thunderlink.sync.SyncSessions.Defaults(
          java.time.Duration.ofMillis(watcherLatencyMillis), java.time.Duration.ofSeconds(rescanIntervalSeconds), ignores,
          massDeletionPercent / 100.0, massDeletionMinEntries);
    }
  }

  /** {@code [service]}: lifecycle. */
  public record Service(int shutdownGraceSeconds) {}

  /** {@code [metrics]}: the Prometheus endpoint on 127.0.0.1; port 0 turns it off. */
  public record Metrics(int port) {
    public boolean enabled() {
      return port != 0;
    }
  }
}
