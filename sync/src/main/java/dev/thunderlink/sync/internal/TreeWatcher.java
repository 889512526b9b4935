package dev.thunderlink.sync.internal;

import io.methvin.watcher.DirectoryChangeEvent;
import io.methvin.watcher.DirectoryWatcher;
import io.methvin.watcher.hashing.FileHasher;
import io.methvin.watcher.visitor.FileTreeVisitor;
import io.methvin.watchservice.MacOSXListeningWatchService;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches a tree through io.methvin directory-watcher (FSEvents on macOS with file-level
 * events, inotify on Linux) with the library's own hashing off: our scanner decides what
 * changed, the watcher only says where to look. Events are coalesced: the sink is fed paths
 * at once, and {@code onBurstEnd} runs once the tree has been quiet for {@code debounce}
 * (or {@code maxDelay} after the first event of a burst, so a long burst still makes progress).
 *
 * <p>Threads: the watch thread registers the tree (then runs {@code onRegistered}) and runs the
 * library's event loop, which calls {@code pathSink}; a single scheduler thread runs
 * {@code onBurstEnd}. {@code overflow} runs on the watch thread.
 */
final class TreeWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TreeWatcher.class);

  private final ExecutorService watchThread;
  private final ScheduledExecutorService timer;
  private final Runnable onBurstEnd;
  private final long debounceNanos;
  private final long maxDelayNanos;
  private final Object lock = new Object();
  private ScheduledFuture<?> pending; // guarded by lock
  private long burstStart; // guarded by lock

  private final Path root;
  private final Duration macosLatency;
  private final Consumer<Path> pathSink;
  /** Asked about each single "created" event ({@link #reportsRenamesOnce}): true drops it as the applier's own rename. */
  private final java.util.function.Predicate<Path> ownRename;
  private final boolean macos = System.getProperty("os.name", "").toLowerCase().contains("mac");
  private final Runnable overflow;
  private volatile DirectoryWatcher watcher;
  private volatile boolean registering;
  /** Runs (on the watch thread) each time a registration of the tree is over, done or given up. */
  private final Runnable onRegistered;
  /** Registrations that failed in a row; past {@link #MAX_FAILED_REGISTRATIONS} no more are tried. */
  private final java.util.concurrent.atomic.AtomicInteger failedRegistrations =
      new java.util.concurrent.atomic.AtomicInteger();
  static final int MAX_FAILED_REGISTRATIONS = 2;
  /** Tests hold back (or break) a registration with this; it runs on the watch thread before each one. */
  static volatile Consumer<DirectoryWatcher> beforeRegistering = w -> { };
  private volatile boolean closed;
  /** Why the tree is not watched (registration given up), or null while it is: {@link #problem()}. */
  private volatile String problem;
  /**
   * The library watcher a restart is scheduled for ({@link #restartSoon}): requests about the
   * same one (an overflow reported twice, a failure) make one restart, and a failure of the
   * watcher that restart starts asks for its own. A single flag for "a restart is under way"
   * lost that second request when the new watcher failed before the restart had cleared the
   * flag; the tree then stayed unwatched without saying so.
   */
  private final java.util.concurrent.atomic.AtomicReference<DirectoryWatcher> restartFor =
      new java.util.concurrent.atomic.AtomicReference<>();
  /** Tests widen a race with this: it runs on the timer thread right after a restart started a new watcher. */
  static volatile Runnable afterRestartStarted = () -> { };
  /**
   * Paused ({@link #pauseUntilQuiet}): no library watcher runs, and the resume that ends the
   * pause (guarded by {@code lock}) is scheduled; {@link #registration} completes when the
   * current registration of the tree is over.
   */
  private volatile boolean paused;
  private final java.util.concurrent.atomic.AtomicInteger pauses = new java.util.concurrent.atomic.AtomicInteger();
  private ScheduledFuture<?> resumeTask; // guarded by lock
  private volatile java.util.concurrent.CompletableFuture<Void> registration = new java.util.concurrent.CompletableFuture<>();

  TreeWatcher(Path root, Duration debounce, Duration maxDelay, Duration macosLatency, Consumer<Path> pathSink,
      Runnable overflow, Runnable onBurstEnd, Runnable onRegistered) throws IOException {
    this(root, debounce, maxDelay, macosLatency, pathSink, p -> false, overflow, onBurstEnd, onRegistered);
  }

  /**
   * @param ownRename asked (on the watch thread) about each path that one "created" event
   *     reports where {@link #reportsRenamesOnce}: true if it is the applier's own rename into
   *     place, which then neither reaches {@code pathSink} nor starts a burst
   */
  TreeWatcher(Path root, Duration debounce, Duration maxDelay, Duration macosLatency, Consumer<Path> pathSink,
      java.util.function.Predicate<Path> ownRename, Runnable overflow, Runnable onBurstEnd, Runnable onRegistered)
      throws IOException {
    this.root = root;
    this.ownRename = ownRename;
    this.onRegistered = onRegistered;
    this.macosLatency = macosLatency;
    this.pathSink = pathSink;
    this.overflow = overflow;
    this.onBurstEnd = onBurstEnd;
    this.debounceNanos = debounce.toNanos();
    this.maxDelayNanos = maxDelay.toNanos();
    this.watchThread = Executors.newSingleThreadExecutor(r -> daemon(r, "sync-watch"));
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "sync-watch-debounce"));
    start();
  }

  /**
   * (Re)starts the library's watcher. If its loop ends while we are open (directory-watcher
   * 0.19.1 throws a NullPointerException on an inotify OVERFLOW event and stops watching),
   * everything it may have missed is covered by a full rescan and the watcher is restarted.
   */
  private void start() throws IOException {
    DirectoryWatcher.Builder b = DirectoryWatcher.builder()
        .path(root)
        .fileHashing(false)
        .fileTreeVisitor(new OneWalk())
        .logger(new WatchLogTap(log, () -> {
          overflow.run();
          poke();
        }))
        .listener(event -> {
          if (isOwnTempFile(event.path())) {
            return;
          }
          if (event.eventType() == DirectoryChangeEvent.EventType.OVERFLOW) {
            overflow.run();
            restartSoon(); // after an inotify overflow the library stops reporting reliably
          } else if (event.path() != null) {
            if (!macos && event.eventType() == DirectoryChangeEvent.EventType.CREATE && event.count() == 1
                && ownRename.test(event.path())) {
              return; // the applier's own write, recorded when it was made: nothing to rescan, no one to wake
            }
            pathSink.accept(event.path());
          }
          poke();
        });
    if (macos) {
      double latencySeconds = macosLatency.toNanos() / 1e9;
      b.watchService(new MacOSXListeningWatchService(new MacOSXListeningWatchService.Config() {
        @Override
        public double latency() {
          return latencySeconds;
        }

        @Override
        public boolean fileLevelEvents() {
          return true;
        }

        @Override
        public FileHasher fileHasher() {
          return null; // no content hashing in the watcher: the scanner hashes what stat says changed
        }
      }));
    }
    DirectoryWatcher w = b.build();
    watcher = w;
    registering = true;
    if (registration.isDone()) {
      registration = new java.util.concurrent.CompletableFuture<>();
    }
    // registering every directory of a large tree takes a while (a round trip to the JDK's
    // inotify thread per directory: 1.3-2 s for 420 directories on a loaded machine), so it
    // runs on the watch thread, then the event loop there
    watchThread.execute(() -> {
      beforeRegistering.accept(w);
      java.util.concurrent.atomic.AtomicBoolean registered = new java.util.concurrent.atomic.AtomicBoolean();
      w.watchAsync(loop -> {
        registered.set(true);
        failedRegistrations.set(0);
        problem = null;
        registrationEnded(w);
        loop.run();
      }).whenComplete((ok, error) -> {
        if (closed || paused || watcher != w) {
          return;
        }
        String why = error == null ? "ended" : error.toString();
        if (!registered.get() && failedRegistrations.incrementAndGet() > MAX_FAILED_REGISTRATIONS) {
          // a tree that cannot be watched (gone, or out of inotify watches): rescans find its changes
          log.warn("cannot watch {} ({}); its changes are found by rescans only", root, why);
          problem = "cannot watch " + root + " (" + why + "): its changes are found by periodic scans, not as they happen"
              + (macos ? "" : " (out of inotify watches? raise fs.inotify.max_user_watches, then restart the daemon)");
          registrationEnded(w);
          return;
        }
        log.warn("directory watcher for {} stopped ({}); restarting it", root, why);
        restartSoon(w);
      });
    });
  }

  /**
   * The library walks the whole tree twice when it starts watching, stat-ing every file: first
   * for its own state (with hashing off, only which paths are directories, which decides
   * nothing we use: the isDirectory of its events), then to register each directory (Linux;
   * FSEvents watches the root as one). That first walk is skipped; every later one (the
   * registration, and a directory created later with what is already in it) is a {@link
   * LeafWalk}, which reports the same but stats only what it must. One per watcher instance, as
   * the library calls it in that order.
   */
  static final class OneWalk implements FileTreeVisitor {
    private final AtomicBoolean stateWalkSkipped = new AtomicBoolean();
    private final LeafWalk walk = new LeafWalk();

    @Override
    public void recursiveVisitFiles(Path file, Callback onDirectory, Callback onFile) throws IOException {
      if (stateWalkSkipped.compareAndSet(false, true)) {
        return;
      }
      walk.recursiveVisitFiles(file, onDirectory, onFile);
    }
  }

  /**
   * Why this tree is not watched, for a session's status: its registration failed too often
   * (a tree that is gone, or more directories than inotify watches left), so changes wait for
   * the next periodic rescan. Null while it is watched (or being registered).
   */
  String problem() {
    return problem;
  }

  private void registrationEnded(DirectoryWatcher w) {
    if (watcher == w) {
      registering = false;
      registration.complete(null);
      onRegistered.run();
    }
  }

  /**
   * Stops watching until {@code quiet} has passed since the last call, then watches the tree
   * again and reports an overflow (everything is scanned again, so a change made meanwhile
   * is found), as after a restart. For a burst of the applier's own writes: each file it
   * installs costs the watch four or five events (its partial copy created, written and
   * stamped, then renamed into place), each a wake-up of the JDK's inotify thread and of the
   * watch thread, and a stat; in a 20,000-file initial sync that was about a third of the
   * host daemon's CPU. While paused, {@link #registering} is true: a full scan then leaves
   * another to be made once the watch is back, as during the first registration.
   */
  void pauseUntilQuiet(java.time.Duration quiet) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      if (resumeTask != null) {
        resumeTask.cancel(false);
      }
      if (!paused) {
        paused = true;
        pauses.incrementAndGet();
        registering = true;
        closeQuietly(watcher);
      }
      try {
        resumeTask = timer.schedule(() -> resume(), quiet.toNanos(), TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        resumeTask = null; // closing
      }
    }
  }

  /** How many pauses {@link #pauseUntilQuiet} began (tests). */
  int pauses() {
    return pauses.get();
  }

  /** True while {@link #pauseUntilQuiet} holds the watch off. */
  boolean paused() {
    return paused;
  }

  /**
   * Ends a pause now (nothing if there is none) and waits up to {@code max} for the tree to
   * be registered again; past that, {@link #registering} stays true and a scan made then is
   * followed by another, as during any registration.
   */
  void resume(java.time.Duration max) throws InterruptedException {
    resume();
    try {
      registration.get(max.toNanos(), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      // still registering: see above
    }
  }

  private void resume() {
    synchronized (lock) {
      if (!paused || closed) {
        return;
      }
      paused = false;
      if (resumeTask != null) {
        resumeTask.cancel(false);
        resumeTask = null;
      }
      try {
        start();
      } catch (IOException e) {
        log.warn("cannot watch {} again after a pause: {}", root, e.toString());
        registering = false; // its changes are found by rescans only
        registration.complete(null);
      }
    }
    overflow.run();
    poke();
  }

  private static void closeQuietly(DirectoryWatcher w) {
    try {
      w.close();
    } catch (IOException | RuntimeException ignored) {
      // stopping it is all that is wanted
    }
  }

  /**
   * True where a rename onto a name is reported as exactly one "created" event for it, and two
   * such events in a row as one with a count of two (inotify through the JDK's watch service):
   * one event with a count of one after the applier renamed a file into place is then that
   * rename. FSEvents coalesces by path and flags instead, so there every event is scanned.
   */
  boolean reportsRenamesOnce() {
    return !macos;
  }

  /**
   * True while the watcher is registering the tree (at start and after a restart): a change
   * made now in a directory not yet registered is not reported, so a scan that started
   * meanwhile may have missed one made behind it. {@code onRegistered} runs when it is over.
   */
  boolean registering() {
    return registering;
  }

  /** A restart of the current library watcher is scheduled (tests). */
  boolean restartPending() {
    DirectoryWatcher w = watcher;
    return w != null && restartFor.get() == w;
  }

  /** {@link #restartSoon(DirectoryWatcher)} for the current watcher (an overflow it reported). */
  private void restartSoon() {
    restartSoon(watcher);
  }

  /**
   * Replaces the library's watcher {@code w} with a fresh one, then asks for a full rescan,
   * which covers whatever changed while no watcher was listening. Runs on the timer thread;
   * nothing if {@code w} was replaced meanwhile (a pause or another restart did it).
   */
  private void restartSoon(DirectoryWatcher w) {
    if (closed || w == null || restartFor.getAndSet(w) == w) {
      return; // already asked for this one
    }
    try {
      timer.schedule(() -> {
        if (closed || paused || watcher != w) {
          return; // replaced meanwhile: a resume or a restart, which asks for its own rescan
        }
        try {
          start();
          afterRestartStarted.run();
          try {
            w.close();
          } catch (IOException | RuntimeException ignored) {
            // it was already failing
          }
        } catch (IOException e) {
          log.warn("cannot restart the directory watcher for {}: {}", root, e.toString());
        } finally {
          overflow.run();
          poke();
        }
      }, 50, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
  }

  /**
   * True for the applier's own temporary files ({@link IgnoreRules#isTemp}): each write
   * creates, fills and renames one, and the rename already reports the real name. Queued,
   * their events doubled the host's echo rescans in an initial sync (40,420 paths for 20,000
   * files) and each burst of them woke the workstation for nothing.
   */
  static boolean isOwnTempFile(Path p) {
    Path name = p == null ? null : p.getFileName();
    return name != null && IgnoreRules.isTemp(name.toString());
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  private void poke() {
    synchronized (lock) {
      long now = System.nanoTime();
      if (pending == null) {
        burstStart = now;
      } else {
        pending.cancel(false);
      }
      long delay = Math.min(debounceNanos, Math.max(0, burstStart + maxDelayNanos - now));
      pending = timer.schedule(this::fire, delay, TimeUnit.NANOSECONDS);
    }
  }

  private void fire() {
    synchronized (lock) {
      pending = null;
    }
    try {
      onBurstEnd.run();
    } catch (RuntimeException e) {
      log.warn("change listener failed", e);
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    watcher.close();
    timer.shutdownNow();
    watchThread.shutdownNow();
  }
}
