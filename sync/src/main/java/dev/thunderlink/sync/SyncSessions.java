package dev.thunderlink.sync;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.thunderlink.sync.internal.StateStore;
import io.grpc.Channel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * The workstation daemon's sync sessions: what {@code thunderlink sync create|list|status|
 * conflicts|pause|resume|terminate|flush} drive. Definitions persist as JSON under
 * {@code home/sync/NAME/session.json} (with the session's databases beside it), so sessions
 * come back after a restart of the daemon or the machine ({@link #startAll()}).
 *
 * <p>Threads: all methods are synchronized; each session runs on its own thread.
 */
public final class SyncSessions implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** The persisted form of a session definition. */
  public record Definition(String name, String localRoot, String remoteRoot, String mode, List<String> ignores,
      boolean useGitignoreFiles, boolean ignoreVcs, String outsideSymlinks, boolean paused) {}

  /**
   * What the daemon's configuration ({@code [sync]} in config.toml) sets for every session.
   *
   * @param macosLatency   the FSEvents latency on macOS (events are batched this long; macOS's
   *                       own default is 0.5 s); not used elsewhere
   * @param rescanInterval the periodic full rescan of both sides, the backstop for lost watch
   *                       events; zero: none
   * @param ignores        ignore rules (.gitignore syntax) every session has before its own, so
   *                       that a session's {@code !pattern} can take one back
   */
  public record Defaults(Duration macosLatency, Duration rescanInterval, List<String> ignores) {
    /** {@link SyncSessionConfig}'s own: its latency and rescan interval, the built-in rules alone. */
    public static final Defaults ENGINE =
        new Defaults(SyncSessionConfig.DEFAULT_MACOS_LATENCY, SyncSessionConfig.DEFAULT_RESCAN_INTERVAL, List.of());

    /** Refuses what every session would refuse at its start, now, once. */
    public Defaults {
      if (macosLatency == null || macosLatency.isNegative()) {
        throw new IllegalArgumentException("sync watcher latency: " + macosLatency + " (expected: >= 0)");
      }
      if (rescanInterval == null || rescanInterval.isNegative()) {
        throw new IllegalArgumentException("sync rescan interval: " + rescanInterval + " (expected: >= 0; 0: none)");
      }
      ignores = List.copyOf(ignores);
    }
  }

  private final Path dir;
  private final Defaults defaults;
  private final String deviceName;
  private final Channel channel;
  private final FilePusher pusher;
  private final Map<String, SyncSession> running = new TreeMap<>();
  private final Map<String, Definition> definitions = new TreeMap<>();
  private java.util.function.Consumer<Duration> onPropagated = d -> {};
  private final List<java.util.function.Consumer<SyncChange>> subscribers =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * @param home       the daemon's home; sessions live in {@code home/sync}
   * @param deviceName this workstation's name (used in conflict copy names)
   * @param channel    the link channel to the host (routes over the active path)
   */
  public SyncSessions(Path home, String deviceName, Channel channel) {
    this(home, deviceName, channel, null);
  }

  /** As above, with the sessions' small files pushed through {@code pusher} (null: by gRPC alone). */
  public SyncSessions(Path home, String deviceName, Channel channel, FilePusher pusher) {
    this(home, deviceName, channel, pusher, Defaults.ENGINE);
  }

  /** As above, every session with {@code defaults} (the daemon's {@code [sync]} settings). */
  public SyncSessions(Path home, String deviceName, Channel channel, FilePusher pusher, Defaults defaults) {
    this.defaults = java.util.Objects.requireNonNull(defaults, "defaults");
    this.dir = home.resolve("sync");
    this.deviceName = deviceName;
    this.channel = channel;
    this.pusher = pusher;
    StateStore.preload();
  }

  /** Starts every persisted session; returns the names that failed to start, with why. */
  public synchronized Map<String, String> startAll() throws IOException {
    Map<String, String> failed = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      return failed;
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path d : (Iterable<Path>) s.sorted()::iterator) {
        Path f = d.resolve("session.json");
        if (!Files.isRegularFile(f)) {
          continue;
        }
        try {
          Definition def = JSON.readValue(f.toFile(), Definition.class);
          definitions.put(def.name(), def);
          if (running.containsKey(def.name())) {
            continue; // started by an earlier call: startAll is retried until every session runs
          }
          start(def);
        } catch (IOException | RuntimeException e) {
          failed.put(d.getFileName().toString(), String.valueOf(e.getMessage()));
        }
      }
    }
    return failed;
  }

  /** {@code sync create}: validates, persists and starts a session. */
  public synchronized SyncStatus create(Definition def) throws IOException {
    if (definitions.containsKey(def.name())) {
      throw new IllegalArgumentException("sync session: " + def.name() + " (expected: a name not in use)");
    }
    SyncSessionConfig config = toConfig(def); // validates
    for (SyncSession other : running.values()) {
      if (other.config().localRoot().equals(config.localRoot())) {
        throw new IllegalArgumentException("local root: " + config.localRoot() + " (expected: not already synced by "
            + other.config().name() + ")");
      }
    }
    Files.createDirectories(dir.resolve(def.name()));
    SyncSession s;
    try {
      s = start(def);
    } catch (IOException | RuntimeException e) {
      StateStore.deleteDir(dir.resolve(def.name()));
      throw e;
    }
    write(def);
    definitions.put(def.name(), def);
    return s.status();
  }

  /**
   * Hears the propagation latency of every change applied by any session, running or started
   * later (see {@link SyncSession#onPropagated}).
   */
  public synchronized void onPropagated(java.util.function.Consumer<Duration> c) {
    onPropagated = java.util.Objects.requireNonNull(c);
    running.values().forEach(s -> s.onPropagated(c));
  }

  /**
   * Subscribes to the changes of every session, present and future, pushed as they happen
   * (see {@link SyncSession#subscribe}: the callback must not block). Close the handle to stop.
   */
  public AutoCloseable subscribe(java.util.function.Consumer<SyncChange> subscriber) {
    subscribers.add(subscriber);
    return () -> subscribers.remove(subscriber);
  }

  private void publish(SyncChange c) {
    for (java.util.function.Consumer<SyncChange> s : subscribers) {
      try {
        s.accept(c);
      } catch (RuntimeException e) {
        // the subscriber's problem; other subscribers and the session go on
      }
    }
  }

  private SyncSession start(Definition def) throws IOException {
    SyncSession s = SyncSession.start(toConfig(def), channel, pusher);
    s.onPropagated(onPropagated);
    s.subscribe(this::publish);
    running.put(def.name(), s);
    if (def.paused()) {
      try {
        s.pause();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return s;
  }

  private SyncSessionConfig toConfig(Definition def) {
    if (def.localRoot() == null) {
      throw new IllegalArgumentException("local root: null (expected: an absolute path)");
    }
    return SyncSessionConfig.builder(def.name()).localRoot(Paths.get(def.localRoot())).remoteRoot(def.remoteRoot())
        .mode(def.mode() == null ? SyncMode.TWO_WAY_SAFE : SyncMode.parse(def.mode()))
        .ignores(defaults.ignores()).ignores(def.ignores() == null ? List.of() : def.ignores())
        .useGitignoreFiles(def.useGitignoreFiles())
        .macosLatency(defaults.macosLatency()).rescanInterval(defaults.rescanInterval())
        .ignoreVcs(def.ignoreVcs())
        .outsideSymlinks("keep".equalsIgnoreCase(def.outsideSymlinks()) ? SyncSessionConfig.OutsideSymlinks.KEEP
            : SyncSessionConfig.OutsideSymlinks.REFUSE)
        .stateDir(dir.resolve(def.name())).deviceName(deviceName).build();
  }

  private void write(Definition def) throws IOException {
    Path f = dir.resolve(def.name()).resolve("session.json");
    Path tmp = f.resolveSibling("session.json.tmp");
    JSON.writeValue(tmp.toFile(), def);
    Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private SyncSession session(String name) {
    SyncSession s = running.get(name);
    if (s == null) {
      throw new IllegalArgumentException(running.isEmpty()
          ? "sync session: " + name + " (there are none; create one with `thunderlink sync create " + name
              + " --local PATH --remote PATH`)"
          : "sync session: " + name + " (expected: one of " + String.join(", ", new java.util.TreeSet<>(running.keySet())) + ")");
    }
    return s;
  }

  /** {@code sync list}. */
  public synchronized List<SyncStatus> list() {
    List<SyncStatus> out = new ArrayList<>();
    for (SyncSession s : running.values()) {
      out.add(s.status());
    }
    return out;
  }

  /** {@code sync status NAME}. */
  public synchronized SyncStatus status(String name) {
    return session(name).status();
  }

  /** {@code sync conflicts NAME}. */
  public synchronized List<SyncConflict> conflicts(String name) throws IOException {
    return session(name).conflicts();
  }

  /** {@code sync pause NAME}: persists, so the session stays paused across restarts. */
  public synchronized void pause(String name) throws IOException, InterruptedException {
    session(name).pause();
    Definition d = definitions.get(name);
    Definition p = new Definition(d.name(), d.localRoot(), d.remoteRoot(), d.mode(), d.ignores(),
        d.useGitignoreFiles(), d.ignoreVcs(), d.outsideSymlinks(), true);
    write(p);
    definitions.put(name, p);
  }

  /** {@code sync resume NAME [--force]}. */
  public synchronized void resume(String name, boolean force) throws IOException {
    session(name).resume(force);
    Definition d = definitions.get(name);
    Definition p = new Definition(d.name(), d.localRoot(), d.remoteRoot(), d.mode(), d.ignores(),
        d.useGitignoreFiles(), d.ignoreVcs(), d.outsideSymlinks(), false);
    write(p);
    definitions.put(name, p);
  }

  /**
   * {@code sync flush NAME [--timeout S]}: returns once every change made on either side
   * before the call has reached the other side; a {@link TimeoutException} means exit non-zero.
   * Not synchronized on the registry, so other commands stay responsive while it waits.
   */
  public void flush(String name, Duration timeout) throws IOException, TimeoutException, InterruptedException {
    SyncSession s;
    synchronized (this) {
      s = session(name);
    }
    s.flush(timeout);
  }

  /**
   * {@code sync create --wait}: returns once the first sync of the session just created is done
   * (see {@link SyncSession#awaitFirstSync}). Not synchronized on the registry, as {@link #flush}.
   */
  public void awaitFirstSync(String name, Duration timeout) throws IOException, TimeoutException, InterruptedException {
    SyncSession s;
    synchronized (this) {
      s = session(name);
    }
    s.awaitFirstSync(timeout);
  }

  /** {@code sync terminate NAME}: stops the session and deletes its state (not the files). */
  public synchronized void terminate(String name) throws IOException {
    SyncSession s = session(name);
    running.remove(name);
    definitions.remove(name);
    s.terminate();
    StateStore.deleteDir(dir.resolve(name));
  }

  /** Closes every session (state stays for the next start). */
  @Override
  public synchronized void close() throws IOException {
    IOException first = null;
    for (SyncSession s : running.values()) {
      try {
        s.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    running.clear();
    if (first != null) {
      throw first;
    }
  }
}
