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
import java.util.Optional;
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

  /**
   * The persisted form of a session definition. {@code massDeletionPercent} (1 to 100) and
   * {@code massDeletionMinEntries} (at least 0) are the session's own safety stop ({@code sync
   * create --mass-deletion-percent/--mass-deletion-min-entries}); null: the daemon's {@link
   * Defaults}, as every session made before they existed has.
   */
  public record Definition(String name, String localRoot, String remoteRoot, String mode, List<String> ignores,
      boolean useGitignoreFiles, boolean ignoreVcs, String outsideSymlinks, boolean paused, Integer massDeletionPercent,
      Integer massDeletionMinEntries) {
    /** With the daemon's safety stop. */
    public Definition(String name, String localRoot, String remoteRoot, String mode, List<String> ignores,
        boolean useGitignoreFiles, boolean ignoreVcs, String outsideSymlinks, boolean paused) {
      this(name, localRoot, remoteRoot, mode, ignores, useGitignoreFiles, ignoreVcs, outsideSymlinks, paused, null, null);
    }

    /** This definition, paused or not. */
    Definition withPaused(boolean p) {
      return new Definition(name, localRoot, remoteRoot, mode, ignores, useGitignoreFiles, ignoreVcs, outsideSymlinks, p,
          massDeletionPercent, massDeletionMinEntries);
    }
  }

  /**
   * What the daemon's configuration ({@code [sync]} in config.toml) sets for every session.
   *
   * @param macosLatency   the FSEvents latency on macOS (events are batched this long; macOS's
   *                       own default is 0.5 s); not used elsewhere
   * @param rescanInterval the periodic full rescan of both sides, the backstop for lost watch
   *                       events; zero: none
   * @param ignores        ignore rules (.gitignore syntax) every session has before its own, so
   *                       that a session's {@code !pattern} can take one back
   * @param safetyDeleteFraction the safety stop: a plan that would delete at least this share of
   *                       a side's entries (or leave it that much below its most within a minute)
   *                       halts the session; 1: only a deletion of everything
   * @param safetyMinimumEntries ... when that is more than this many entries
   */
  public record Defaults(Duration macosLatency, Duration rescanInterval, List<String> ignores, double safetyDeleteFraction,
      int safetyMinimumEntries) {
    /** {@link SyncSessionConfig}'s own: its latency, rescan interval and safety stop, the built-in rules alone. */
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
      if (!(safetyDeleteFraction > 0 && safetyDeleteFraction <= 1)) {
        throw new IllegalArgumentException("sync mass deletion share: " + safetyDeleteFraction + " (expected: more than 0, at most 1)");
      }
      if (safetyMinimumEntries < 0) {
        throw new IllegalArgumentException("sync mass deletion minimum: " + safetyMinimumEntries + " (expected: >= 0)");
      }
      ignores = List.copyOf(ignores);
    }

    /** With {@link SyncSessionConfig}'s safety stop: half of a side, more than 20 entries. */
    public Defaults(Duration macosLatency, Duration rescanInterval, List<String> ignores) {
      this(macosLatency, rescanInterval, ignores, SyncSessionConfig.DEFAULT_SAFETY_DELETE_FRACTION,
          SyncSessionConfig.DEFAULT_SAFETY_MINIMUM_ENTRIES);
    }
  }

  private final Path dir;
  private final Defaults defaults;
  private final String deviceName;
  private final Channel channel;
  private final FilePusher pusher;
  private final Map<String, SyncSession> running = new TreeMap<>();
  private final Map<String, Definition> definitions = new TreeMap<>();
  /**
   * Persisted sessions that are not running, with why: not started yet (the daemon starts them
   * once a path to the host is up), or their start failed (retried). Every command sees them, so
   * that a session is never taken for absent while the host is out of reach.
   */
  private final Map<String, String> notStarted = new TreeMap<>();
  private boolean loaded;
  /**
   * Terminated sessions whose index the host has not been told to drop yet (it was out of
   * reach), persisted in {@code home/sync/host-forget.json} and asked again at the next start,
   * create or terminate.
   */
  private final java.util.TreeSet<String> hostForget = new java.util.TreeSet<>();
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
    load();
    Map<String, String> failed = new TreeMap<>();
    for (Map.Entry<String, Definition> e : readDefinitions().entrySet()) {
      String name = e.getKey();
      try {
        Definition def = e.getValue();
        if (def == null) {
          throw new IOException(notStarted.get(name));
        }
        refuseOverlap(toConfig(def), running.values().stream().map(x -> definitions.get(x.config().name())).toList());
        start(def);
        notStarted.remove(name);
      } catch (IOException | RuntimeException ex) {
        String why = String.valueOf(ex.getMessage());
        failed.put(name, why);
        notStarted.put(name, why);
      }
    }
    forgetOnHost(false);
    return failed;
  }

  /**
   * Reads the definition of every persisted session that is not running, into
   * {@link #definitions} (a null value: unreadable, and why in {@link #notStarted}); returns them.
   * Sessions that run are left alone: startAll is retried until every session runs.
   */
  private Map<String, Definition> readDefinitions() throws IOException {
    Map<String, Definition> read = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      return read;
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path d : (Iterable<Path>) s.sorted()::iterator) {
        String name = d.getFileName().toString();
        Path f = d.resolve("session.json");
        if (!Files.isRegularFile(f) || running.containsKey(name)) {
          continue;
        }
        try {
          Definition def = JSON.readValue(f.toFile(), Definition.class);
          if (!name.equals(def.name())) {
            throw new IOException("it names the session " + def.name() + ", not " + name);
          }
          definitions.put(name, def);
          read.put(name, def);
        } catch (IOException | RuntimeException e) {
          definitions.remove(name);
          read.put(name, null);
          notStarted.put(name, "its definition " + f + " cannot be read: " + e.getMessage()
              + " (`thunderlink sync terminate " + name + "` removes it)");
        }
      }
    }
    return read;
  }

  /**
   * Makes every persisted session known before the first {@link #startAll} (the daemon calls
   * that once a path to the host is up): before, {@code list} showed none, and a {@code create}
   * of the same name, failing for want of the host, deleted the persisted session's state.
   */
  private void load() {
    if (loaded) {
      return;
    }
    try {
      Path f = dir.resolve(HOST_FORGET);
      try {
        if (Files.isRegularFile(f)) {
          hostForget.addAll(List.of(JSON.readValue(f.toFile(), String[].class)));
        }
      } catch (IOException | RuntimeException e) {
        // only the host's clean-up of old indexes is lost; the sessions load as ever
      }
      readDefinitions().forEach((name, def) -> {
        if (def != null) {
          notStarted.putIfAbsent(name, WAITING);
        }
      });
      loaded = true;
    } catch (IOException e) {
      // read again at the next command; startAll reports it
    }
  }

  private static final String HOST_FORGET = "host-forget.json";
  /**
   * How a session that has not started because no path to the host is up begins its reason
   * ({@code last_error}); `doctor` recognises it by this, then the link's own words follow.
   */
  public static final String WAITING = "waiting for a path to the host";
  private volatile java.util.function.Supplier<Optional<String>> hostAway = Optional::empty;

  /**
   * Asks the host to drop the index of each session terminated while it was out of reach, and
   * forgets those it dropped. A name in use again is not asked for: its new session owns that
   * index now. Quick when there are none; a host out of reach costs one failed call.
   */
  private void forgetOnHost(boolean added) {
    if (hostForget.isEmpty()) {
      return;
    }
    boolean changed = added;
    changed |= hostForget.removeIf(n -> definitions.containsKey(n) || notStarted.containsKey(n));
    for (String name : List.copyOf(hostForget)) {
      try {
        dev.thunderlink.sync.internal.RemoteEndpoint.forget(channel, name);
        hostForget.remove(name);
        changed = true;
      } catch (IOException e) {
        break; // out of reach still: the next start, create or terminate asks again
      }
    }
    if (changed) {
      try {
        Path f = dir.resolve(HOST_FORGET);
        if (hostForget.isEmpty()) {
          Files.deleteIfExists(f);
        } else {
          writeJson(f, hostForget.toArray(new String[0]));
        }
      } catch (IOException e) {
        // asked again next time: dropping an index twice is harmless
      }
    }
  }

  /** {@code sync create}: validates, persists and starts a session. */
  public synchronized SyncStatus create(Definition def) throws IOException {
    load();
    if (definitions.containsKey(def.name()) || notStarted.containsKey(def.name())) {
      throw new IllegalArgumentException("sync session: " + def.name() + " (expected: a name not in use)");
    }
    SyncSessionConfig config = toConfig(def); // validates
    // every other session, running or not yet: one persisted keeps its place while the host is away
    refuseOverlap(config, definitions.values());
    Path own = dir.resolve(def.name());
    if (Files.isDirectory(own, java.nio.file.LinkOption.NOFOLLOW_LINKS)
        && !Files.exists(own.resolve("session.json"), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      StateStore.deleteDir(own); // a create that crashed before its definition was written: no session's
    }
    if (Files.exists(own, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      // something no session owns that is not a create's leftover: never deleted by a failed create
      throw new IllegalArgumentException("sync session: " + def.name() + " (expected: a name not in use; "
          + own + " exists)");
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
    forgetOnHost(false); // a name in use again leaves the list; others are asked now the host is here
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

  /**
   * Refuses a session that would mirror what a running one mirrors: the same local root, or
   * roots that overlap another session's on both sides (one inside the other, or the same). The
   * second kind loops: with {@code P <-> R} and {@code P/sub <-> R}, a file made in {@code P/sub}
   * reaches {@code R/sub} through the first and {@code R} through the second, which the first
   * brings back to {@code P}, and so on: {@code P/sub/sub/sub/...} for ever. Roots that overlap
   * on one side only are allowed (a change crosses once and stops).
   */
  private void refuseOverlap(SyncSessionConfig config, java.util.Collection<Definition> others) {
    Path local = canonical(config.localRoot());
    Path remote = Paths.get(config.remoteRoot()).normalize();
    for (Definition o : others) {
      if (o == null || o.name().equals(config.name()) || o.localRoot() == null || o.remoteRoot() == null) {
        continue;
      }
      Path otherLocal = canonical(Paths.get(o.localRoot()));
      if (otherLocal.equals(local)) {
        throw new IllegalArgumentException("local root: " + config.localRoot() + " (expected: not already synced by "
            + o.name() + ")");
      }
      Path otherRemote = Paths.get(o.remoteRoot()).normalize();
      if (overlap(local, otherLocal) && overlap(remote, otherRemote)) {
        throw new IllegalArgumentException("roots: " + config.localRoot() + " <-> host:" + config.remoteRoot()
            + " (expected: roots that do not overlap session " + o.name() + "'s " + o.localRoot() + " <-> host:"
            + o.remoteRoot() + " on both sides; each session would take the other's writes for changes and copy them"
            + " round for ever)");
      }
    }
  }

  private static boolean overlap(Path a, Path b) {
    return a.startsWith(b) || b.startsWith(a);
  }

  /** The folder as the file system names it (symbolic links resolved) when it can be read; else as given. */
  private static Path canonical(Path p) {
    Path abs = p.toAbsolutePath().normalize();
    try {
      return abs.toRealPath();
    } catch (IOException e) {
      return abs;
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
    checkMassDeletion(def.massDeletionPercent() == null ? null : def.massDeletionPercent().longValue(),
        def.massDeletionMinEntries() == null ? null : def.massDeletionMinEntries().longValue());
    return SyncSessionConfig.builder(def.name()).localRoot(Paths.get(def.localRoot())).remoteRoot(def.remoteRoot())
        .mode(def.mode() == null ? SyncMode.TWO_WAY_SAFE : SyncMode.parse(def.mode()))
        .ignores(defaults.ignores()).ignores(def.ignores() == null ? List.of() : def.ignores())
        .useGitignoreFiles(def.useGitignoreFiles())
        .macosLatency(defaults.macosLatency()).rescanInterval(defaults.rescanInterval())
        .safetyDeleteFraction(def.massDeletionPercent() == null ? defaults.safetyDeleteFraction()
            : def.massDeletionPercent() / 100.0)
        .safetyMinimumEntries(def.massDeletionMinEntries() == null ? defaults.safetyMinimumEntries()
            : def.massDeletionMinEntries())
        .ignoreVcs(def.ignoreVcs())
        .outsideSymlinks("keep".equalsIgnoreCase(def.outsideSymlinks()) ? SyncSessionConfig.OutsideSymlinks.KEEP
            : SyncSessionConfig.OutsideSymlinks.REFUSE)
        .stateDir(dir.resolve(def.name())).deviceName(deviceName).build();
  }

  /**
   * Refuses a session's own safety stop out of range, naming {@code sync create}'s flag (the
   * CLI, the control endpoint and the registry ask the same); null: not set. Long, so that the
   * control endpoint's unsigned values are shown as they were sent.
   */
  public static void checkMassDeletion(Long percent, Long minEntries) {
    if (percent != null && (percent < 1 || percent > 100)) {
      throw new IllegalArgumentException("--mass-deletion-percent: " + percent
          + " (expected: 1 to 100; 100 halts only a deletion of everything)");
    }
    if (minEntries != null && (minEntries < 0 || minEntries > Integer.MAX_VALUE)) {
      throw new IllegalArgumentException("--mass-deletion-min-entries: " + minEntries + " (expected: "
          + (minEntries < 0 ? "0 or more" : "at most " + Integer.MAX_VALUE) + ")");
    }
  }

  private void write(Definition def) throws IOException {
    writeJson(dir.resolve(def.name()).resolve("session.json"), def);
  }

  /** Writes {@code value} as JSON to {@code f} atomically: a temporary file beside it, then a rename. */
  private static void writeJson(Path f, Object value) throws IOException {
    Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
    JSON.writeValue(tmp.toFile(), value);
    Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** The running session {@code name}; a clear error for one that is not running, or none. */
  private SyncSession session(String name) {
    load();
    SyncSession s = running.get(name);
    if (s == null) {
      if (notStarted.containsKey(name)) {
        throw new IllegalStateException("sync session " + name + " is not running: " + notStarted.get(name)
            + " (it starts by itself once that is mended)");
      }
      java.util.TreeSet<String> names = new java.util.TreeSet<>(running.keySet());
      names.addAll(notStarted.keySet());
      throw new IllegalArgumentException(names.isEmpty()
          ? "sync session: " + name + " (there are none; create one with `thunderlink sync create " + name
              + " --local PATH --remote PATH`)"
          : "sync session: " + name + " (expected: one of " + String.join(", ", names) + ")");
    }
    return s;
  }

  /** {@code sync list}: the running sessions and those not started (yet), by name. */
  public List<SyncStatus> list() {
    Optional<String> away = hostAway.get(); // the link's lock, never taken under ours
    synchronized (this) {
      load();
      Map<String, SyncStatus> out = new TreeMap<>();
      running.forEach((name, s) -> out.put(name, seenFromHere(s.status(), away)));
      notStarted.keySet().forEach(name -> out.put(name, notStartedStatus(name, away)));
      return new ArrayList<>(out.values());
    }
  }

  /** {@code sync status NAME}. */
  public SyncStatus status(String name) {
    Optional<String> away = hostAway.get();
    synchronized (this) {
      load();
      return notStarted.containsKey(name) ? notStartedStatus(name, away) : seenFromHere(session(name).status(), away);
    }
  }

  /**
   * Where the daemon learns whether a path to the host is up: empty when one is, else why not
   * (the link's own words). Until it is set, the host is taken to be in reach.
   */
  public void hostAway(java.util.function.Supplier<Optional<String>> v) {
    hostAway = java.util.Objects.requireNonNull(v);
  }

  /**
   * A running session while no path to the host is up says so: RUNNING there read as "in
   * sync" to users while nothing could cross, and a session with no change to send had no
   * error to show either.
   */
  private static SyncStatus seenFromHere(SyncStatus s, Optional<String> away) {
    if (away.isEmpty() || !s.state().equals("RUNNING")) {
      return s;
    }
    return s.withState("DISCONNECTED", away.get() + "; changes on either side cross once a path is back");
  }

  /** A persisted session that does not run: state NOT_STARTED, why in {@code lastError}. */
  private SyncStatus notStartedStatus(String name, Optional<String> away) {
    Definition d = definitions.get(name);
    String mode = d == null ? "" : d.mode() == null ? SyncMode.TWO_WAY_SAFE.cliName() : d.mode();
    String why = notStarted.get(name);
    if (why.equals(WAITING) && away.isPresent()) {
      why = WAITING + ": " + away.get();
    }
    return new SyncStatus(name, mode, "NOT_STARTED", "", why, 0, 0, 0, 0, 0, 0, 0, 0, 0, Map.of(),
        List.of(), 0, 0, 0, 0, 0, 0, 0, false, d == null ? "" : d.localRoot(), d == null ? "" : d.remoteRoot(),
        false, "", 0, 0);
  }

  /** {@code sync conflicts NAME}. */
  public synchronized List<SyncConflict> conflicts(String name) throws IOException {
    return session(name).conflicts();
  }

  /**
   * {@code sync pause NAME}: persists, so the session stays paused across restarts; a session
   * not started yet will start paused.
   */
  public synchronized void pause(String name) throws IOException, InterruptedException {
    if (!pausedOnStart(name, true)) {
      session(name).pause();
      persistPaused(name, true);
    }
  }

  /** {@code sync resume NAME [--force]}; a session not started yet will start running. */
  public synchronized void resume(String name, boolean force) throws IOException {
    if (!pausedOnStart(name, false)) {
      session(name).resume(force);
      persistPaused(name, false);
    }
  }

  /** For a session not started (yet) with a readable definition: persists {@code paused}; true if it was one. */
  private boolean pausedOnStart(String name, boolean paused) throws IOException {
    load();
    if (running.containsKey(name) || !notStarted.containsKey(name) || definitions.get(name) == null) {
      return false;
    }
    persistPaused(name, paused);
    return true;
  }

  private void persistPaused(String name, boolean paused) throws IOException {
    Definition p = definitions.get(name).withPaused(paused);
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

  /**
   * {@code sync terminate NAME}: stops the session and deletes its state (not the files). A
   * session that is not running goes too. The host is asked to drop its index of the session
   * now, or, out of reach, at the next start, create or terminate ({@link #forgetOnHost}).
   */
  public synchronized void terminate(String name) throws IOException {
    load();
    if (!running.containsKey(name) && notStarted.containsKey(name)) {
      notStarted.remove(name);
      definitions.remove(name);
      StateStore.deleteDir(dir.resolve(name));
    } else {
      SyncSession s = session(name);
      running.remove(name);
      definitions.remove(name);
      boolean hostForgot = s.terminate(); // its close asks the host to forget
      StateStore.deleteDir(dir.resolve(name));
      if (hostForgot) {
        forgetOnHost(false); // others still listed are asked now the host is here
        return;
      }
    }
    hostForget.add(name);
    forgetOnHost(true);
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
